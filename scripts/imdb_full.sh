#!/usr/bin/env bash
# Full IMDB sentiment on GPUs through `accelerate launch`: bert-base-uncased on all 25,000 training reviews
# (1,000 held out, stratified, for validation), scored on all 25,000 test reviews before and after.
#   bash scripts/imdb_full.sh                                                        # one GPU, bf16
#   ACCELERATE_CONFIG=scripts/accelerate/multi_gpu.yaml NUM_PROCESSES=4 bash scripts/imdb_full.sh
#   DATASET=imdb bash scripts/imdb_full.sh                                          # the hub's copy instead
# Data: DATA_DIR/imdb/{train,test}.csv.gz by default (offline). Launch knobs: scripts/launch_common.sh.
# No GPU: refuses unless ALLOW_CPU=1.
#
# Recipe: Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?" (arXiv:1905.05583), its stated hyperparameters:
# batch 24, learning rate 2e-5, 10 % warm-up, at most 4 epochs keeping the best on validation, 512 tokens
# with head+tail truncation (first 128 + last 382 tokens), their best truncation for IMDb.
set -euo pipefail
cd "$(dirname "$0")/.."
# Online by default, unlike the laptop scripts: the defaults (bert-base-uncased) come from the hub.
# Air-gapped: HF_HUB_OFFLINE=1 (the model then falls back to the offline MiniLM, saying so).
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-0}"
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-512}"
source scripts/imdb_common.sh            # every review by default; MODEL, DATA_DIR, DATASET, TRUNCATION, SEED
EPOCHS="${EPOCHS:-4}"
LR="${LR:-2e-5}"
WARMUP="${WARMUP:-0.1}"
GLOBAL_BATCH="${GLOBAL_BATCH:-24}"
EVAL_BATCH="${EVAL_BATCH:-128}"
LOGGING_STEPS="${LOGGING_STEPS:-100}"
RUN_NAME="${RUN_NAME:-imdb_full_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
EXTRA_ARGS="${EXTRA_ARGS:-}"             # more run_imdb.py flags
REPORT="${REPORT:-1}"                    # 0: skip the summary + plots at the end (scripts/report.sh)
source scripts/launch_common.sh
need_data ${DATA_ITEMS[@]+"${DATA_ITEMS[@]}"}               # DATASET=local: the reviews fetched and verified if missing

# Validation after every epoch; the best epoch's weights are the ones tested and saved (Sun et al.).
ARGS=("${COMMON[@]}" --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
      --per_device_eval_batch_size "$EVAL_BATCH" --eval_strategy epoch --save_strategy epoch --save_total_limit 2
      --load_best_model_at_end true --metric_for_best_model accuracy --logging_steps "$LOGGING_STEPS"
      --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
ARGS+=(${RESUME_ARGS[@]+"${RESUME_ARGS[@]}"})
read -r -a EXTRA <<< "$EXTRA_ARGS"       # split into flags on purpose
run "${LAUNCH[@]}" run_imdb.py "${ARGS[@]}" "${SPEED_ARGS[@]}" "${TRAIN_SPEED_ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"}
if is_main_machine; then
  optional python -m bertkit.report.table "$OUTPUT_DIR.json"
  if [ "$REPORT" = 1 ]; then  # the summary of every run beside this one, and this run's plots (their paths printed)
    optional env RESULTS_DIR="$(dirname "$OUTPUT_DIR")" RUN="$(basename "$OUTPUT_DIR")" bash scripts/report.sh
  fi
  echo "results: $OUTPUT_DIR.json (test predictions in $OUTPUT_DIR/)"
  echo "classify with it: $VENV_PYTHON classify.py --model $OUTPUT_DIR --text 'A wonderful, moving film.'"
fi
