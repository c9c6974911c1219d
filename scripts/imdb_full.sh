#!/usr/bin/env bash
# Full IMDB sentiment on GPUs through `accelerate launch`: bert-base-uncased on all 25,000 training reviews
# (1,000 held out, stratified, for validation), scored on all 25,000 test reviews before and after.
#   bash scripts/imdb_full.sh                                                        # one GPU, bf16
#   ACCELERATE_CONFIG=scripts/accelerate/multi_gpu.yaml NUM_PROCESSES=4 bash scripts/imdb_full.sh
#   DATASET=imdb HF_HUB_OFFLINE=0 bash scripts/imdb_full.sh                          # the hub's copy instead
# Data: DATA_DIR/imdb/{train,test}.csv.gz by default (offline). Launch knobs: scripts/launch_common.sh.
# No GPU: refuses unless ALLOW_CPU=1.
#
# Recipe: Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?" (arXiv:1905.05583), section 5:
# batch 24, learning rate 2e-5, 10 % warm-up, at most 4 epochs keeping the best on validation, 512 tokens
# with head+tail truncation (first 128 + last 382 tokens), their best truncation for IMDb.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

MODEL="${MODEL:-bert-base-uncased}"      # falls back to the offline MiniLM when it cannot be loaded
DATA_DIR="${DATA_DIR:-../shared/data}"
DATASET="${DATASET:-local}"              # local (DATA_DIR/imdb/*.csv.gz) or a hub name (imdb)
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-}"       # empty: every review
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-}"
MAX_PREDICT_SAMPLES="${MAX_PREDICT_SAMPLES-}"
VALIDATION_SIZE="${VALIDATION_SIZE:-1000}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-512}"
TRUNCATION="${TRUNCATION:-head_tail}"
EPOCHS="${EPOCHS:-4}"
LR="${LR:-2e-5}"
WARMUP="${WARMUP:-0.1}"
GLOBAL_BATCH="${GLOBAL_BATCH:-24}"
EVAL_BATCH="${EVAL_BATCH:-128}"
SEED="${SEED:-42}"
LOGGING_STEPS="${LOGGING_STEPS:-100}"
RUN_NAME="${RUN_NAME:-imdb_full_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
EXTRA_ARGS="${EXTRA_ARGS:-}"             # more run_imdb.py flags
source scripts/launch_common.sh

if [ "$DATASET" = "local" ]; then
  DATA_ARGS=(--train_file "$DATA_DIR/imdb/train.csv.gz" --test_file "$DATA_DIR/imdb/test.csv.gz")
else
  DATA_ARGS=(--dataset_name "$DATASET")
fi
# Validation after every epoch; the best epoch's weights are the ones tested and saved (Sun et al.).
ARGS=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --validation_size "$VALIDATION_SIZE"
      --max_seq_length "$MAX_SEQ_LENGTH" --truncation "$TRUNCATION" --do_train --do_eval --do_predict
      --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
      --per_device_eval_batch_size "$EVAL_BATCH" --seed "$SEED" --eval_strategy epoch --save_strategy epoch
      --save_total_limit 2 --load_best_model_at_end true --metric_for_best_model accuracy
      --logging_steps "$LOGGING_STEPS" --disable_tqdm true --report_to none
      --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
if [ -n "$MAX_TRAIN_SAMPLES" ]; then ARGS+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
if [ -n "$MAX_EVAL_SAMPLES" ]; then ARGS+=(--max_eval_samples "$MAX_EVAL_SAMPLES"); fi
if [ -n "$MAX_PREDICT_SAMPLES" ]; then ARGS+=(--max_predict_samples "$MAX_PREDICT_SAMPLES"); fi
if compgen -G "$OUTPUT_DIR/checkpoint-*" > /dev/null; then
  echo "resuming from the newest checkpoint in $OUTPUT_DIR"
  ARGS+=(--resume_from_checkpoint "$OUTPUT_DIR")
fi
echo "+ ${LAUNCH[*]} run_imdb.py ${ARGS[*]} ${SPEED_ARGS[*]} $EXTRA_ARGS"
# shellcheck disable=SC2086  # EXTRA_ARGS is split into flags on purpose
"${LAUNCH[@]}" run_imdb.py "${ARGS[@]}" "${SPEED_ARGS[@]}" $EXTRA_ARGS
if is_main_machine; then
  echo "+ python -m bertkit.table $OUTPUT_DIR.json"
  python -m bertkit.table "$OUTPUT_DIR.json"
fi
