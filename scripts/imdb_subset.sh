#!/usr/bin/env bash
# IMDB sentiment on a laptop: un-fine-tuned vs fine-tuned accuracy on the same test reviews, offline, <15 min
# on 2 CPU cores. Every knob below and in scripts/imdb_common.sh (MODEL, DATA_DIR, DATASET, TRUNCATION, ...) can
# be overridden, e.g.
#   TRUNCATION=head bash scripts/imdb_subset.sh
# Full size (25k/25k reviews, bert-base-uncased) on GPUs: scripts/imdb_full.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-2000}"
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-500}"
MAX_PREDICT_SAMPLES="${MAX_PREDICT_SAMPLES-1000}"
source scripts/imdb_common.sh
EPOCHS="${EPOCHS:-1}"
LR="${LR:-2e-4}"
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
RUN_NAME="${RUN_NAME:-imdb_subset_${TRUNCATION}_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"

ARGS=("${COMMON[@]}" --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
      --per_device_train_batch_size "$BATCH" --per_device_eval_batch_size 64 --save_strategy epoch
      --save_total_limit 1 --logging_steps 20 --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
run python run_imdb.py "${ARGS[@]}"
optional python -m bertkit.table "$OUTPUT_DIR.json"
