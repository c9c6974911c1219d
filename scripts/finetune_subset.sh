#!/usr/bin/env bash
# SQuAD 2.0 on a laptop: baseline -> fine-tune -> evaluate -> before/after table, offline, <15 min on 2 cores.
#   bash scripts/finetune_subset.sh
#   MAX_TRAIN_SAMPLES=2000 EPOCHS=2 bash scripts/finetune_subset.sh     # every knob below can be overridden
#   HF_HUB_OFFLINE=0 DATASET=squad_v2 bash scripts/finetune_subset.sh   # with the hub: bert-base-uncased, squad_v2
# Knobs for model and data: scripts/squad_common.sh (MODEL, DATA_DIR, DATASET, MAX_EVAL_SAMPLES, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"
source scripts/squad_common.sh

# The subset recipe, tuned for MiniLM on 2 CPU cores (README, "Results"): many distinct questions seen
# once beat few questions seen twice, and few unanswerable ones keep the model from learning only "no answer".
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-3200}"
UNANSWERABLE_FRACTION="${UNANSWERABLE_FRACTION-0.2}"
EPOCHS="${EPOCHS:-1}"
LR="${LR:-3e-4}"
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
RUN_NAME="${RUN_NAME:-squad_subset_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
BASELINE_DIR="${BASELINE_DIR:-${OUTPUT_DIR}_baseline}"

echo "== 1/3 baseline: the model before fine-tuning"
run python run_baseline.py "${COMMON[@]}" --output_dir "$BASELINE_DIR" --results_file "$BASELINE_DIR.json"

echo "== 2/3 fine-tune, then evaluate on the same questions"
TRAIN=(--do_train --do_eval --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
       --per_device_train_batch_size "$BATCH" --train_sampling_strategy group_by_length
       --save_strategy epoch --save_total_limit 1 --logging_steps 20 --disable_tqdm true)
if [ -n "$MAX_TRAIN_SAMPLES" ]; then TRAIN+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
if [ -n "$UNANSWERABLE_FRACTION" ]; then TRAIN+=(--max_train_unanswerable_fraction "$UNANSWERABLE_FRACTION"); fi
run python run_squad.py "${COMMON[@]}" "${TRAIN[@]}" --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json" \
    --baseline_results "$BASELINE_DIR.json"

echo "== 3/3 before / after"
optional python -m bertkit.table "$OUTPUT_DIR.json"
echo "results: $OUTPUT_DIR.json (predictions in $OUTPUT_DIR/)"
echo "ask it:  python ask.py --model $OUTPUT_DIR --question '...' --context '...'"
