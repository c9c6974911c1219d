#!/usr/bin/env bash
# Full SQuAD 2.0 on GPUs through `accelerate launch`: baseline -> fine-tune bert-base-uncased on all 130k
# training questions -> evaluate on all 11,873 dev questions -> before/after table.
#   bash scripts/finetune_full.sh                                                    # one GPU, bf16
#   ACCELERATE_CONFIG=scripts/accelerate/multi_gpu.yaml NUM_PROCESSES=4 bash scripts/finetune_full.sh
#   ACCELERATE_CONFIG=scripts/accelerate/multi_node.yaml NUM_MACHINES=2 NUM_PROCESSES=16 MACHINE_RANK=0 \
#     MAIN_PROCESS_IP=10.0.0.1 RUN_NAME=squad_full_a bash scripts/finetune_full.sh       # on each machine
#   sbatch scripts/accelerate/slurm_squad_full.sbatch                                # SLURM, several machines
# Data: DATASET=squad_v2 (downloaded from the hub), DATASET=official (the official train + dev files in
# DATA_DIR, fetched from the SQuAD site and verified if missing), DATASET=files TRAIN_FILE=.../train-v2.0.json
# VALIDATION_FILE=.../dev-v2.0.json (your copies), or DATASET=dev-split (offline protocol).
# Launch knobs (GPU count, batch split, precision, ...): scripts/launch_common.sh. No GPU: refuses unless ALLOW_CPU=1.
#
# Recipe: the SQuAD 2.0 fine-tuning command of the BERT authors (github.com/google-research/bert, README,
# "SQuAD 2.0"): learning rate 3e-5, 2 epochs, batch 24, 384-token windows with stride 128, and run_squad.py's
# default linear warm-up over the first 10 % of steps. The README shows it for BERT-Large; the Hugging Face
# bert-base example (transformers examples, question-answering) uses the same rate, epochs and windows.
set -euo pipefail
cd "$(dirname "$0")/.."
# Online by default, unlike the laptop scripts: the defaults (squad_v2 and bert-base-uncased) come from the hub.
# Air-gapped: HF_HUB_OFFLINE=1 (the model then falls back to the offline MiniLM, saying so).
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-0}"
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

DATASET="${DATASET:-squad_v2}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-384}"
DOC_STRIDE="${DOC_STRIDE:-128}"
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-}"     # empty: every question
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-}"
EVAL_BATCH="${EVAL_BATCH:-128}"
source scripts/squad_common.sh
LR="${LR:-3e-5}"
EPOCHS="${EPOCHS:-2}"
WARMUP="${WARMUP:-0.1}"
GLOBAL_BATCH="${GLOBAL_BATCH:-24}"
BASELINE="${BASELINE:-1}"                   # 0: skip the before-fine-tuning evaluation
REPORT="${REPORT:-1}"                       # 0: no results/summary.md and plots at the end (main machine only)
LOGGING_STEPS="${LOGGING_STEPS:-100}"
SAVE_STEPS="${SAVE_STEPS:-2000}"            # checkpoints to resume from (a rerun with the same RUN_NAME resumes)
RUN_NAME="${RUN_NAME:-squad_full_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
BASELINE_DIR="${BASELINE_DIR:-${OUTPUT_DIR}_baseline}"
EXTRA_ARGS="${EXTRA_ARGS:-}"                # more run_squad.py flags, e.g. "--max_steps 100"
THRESHOLD="${THRESHOLD:-auto}"              # no-answer threshold: auto = the F1-best value on CALIBRATION_SAMPLES+
CALIBRATION_SAMPLES="${CALIBRATION_SAMPLES:-2000}"   # training questions held out of training (saved with the model)
CALIBRATION_UNIT="${CALIBRATION_UNIT:-article}"      # held out whole: article (every question of them) | paragraph
source scripts/launch_common.sh
need_data ${DATA_ITEMS[@]+"${DATA_ITEMS[@]}"}               # DATASET=dev-split / official: fetched and verified if missing

BASELINE_ARGS=()
if [ "$BASELINE" = 1 ]; then
  if [ -f "$BASELINE_DIR.json" ]; then
    echo "== 1/3 baseline: $BASELINE_DIR.json exists, reusing it"
  else
    echo "== 1/3 baseline: the model before fine-tuning"
    run "${LAUNCH[@]}" run_baseline.py "${COMMON[@]}" "${SPEED_ARGS[@]}" \
        --output_dir "$BASELINE_DIR" --results_file "$BASELINE_DIR.json"
  fi
  BASELINE_ARGS=(--baseline_results "$BASELINE_DIR.json")
fi

echo "== 2/3 fine-tune, then evaluate on every eval question"
TRAIN=(--do_train --do_eval --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
       --save_strategy steps --save_steps "$SAVE_STEPS" --save_total_limit 2 --logging_steps "$LOGGING_STEPS"
       --disable_tqdm true)
if [ -n "$MAX_TRAIN_SAMPLES" ]; then TRAIN+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
TRAIN+=(--null_score_diff_threshold "$THRESHOLD" --calibration_samples "$CALIBRATION_SAMPLES"
       --calibration_unit "$CALIBRATION_UNIT" ${RESUME_ARGS[@]+"${RESUME_ARGS[@]}"})
read -r -a EXTRA <<< "$EXTRA_ARGS"       # split into flags on purpose
run "${LAUNCH[@]}" run_squad.py "${COMMON[@]}" "${SPEED_ARGS[@]}" "${TRAIN_SPEED_ARGS[@]}" "${TRAIN[@]}" ${BASELINE_ARGS[@]+"${BASELINE_ARGS[@]}"} \
    ${EXTRA[@]+"${EXTRA[@]}"} \
    --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json"

if is_main_machine; then
  echo "== 3/3 before / after"
  optional python -m bertkit.report.table "$OUTPUT_DIR.json"
  if [ "$REPORT" = 1 ]; then
    optional env RESULTS_DIR="$(dirname "$OUTPUT_DIR")" RUN="$(basename "$OUTPUT_DIR")" bash scripts/report.sh
  fi
  echo "results: $OUTPUT_DIR.json (predictions in $OUTPUT_DIR/)"
  echo "ask it:   $VENV_PYTHON ask.py --model $OUTPUT_DIR --question 'What is the capital of China?' --context 'The capital of China is Beijing.'"
fi
