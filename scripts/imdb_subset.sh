#!/usr/bin/env bash
# IMDB sentiment on a laptop: un-fine-tuned vs fine-tuned accuracy on the same test reviews, offline, on 2 CPU
# cores (its time: docs/results.md); the offline MiniLM unless MODEL is set, the official reviews fetched into
# DATA_DIR if missing.
# Every knob below and in scripts/imdb_common.sh (MODEL, DATA_DIR, DATASET, TRUNCATION, ...) can
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
LAPTOP_JOB=imdb                          # the estimate for another model reads the committed IMDB runs' times
source scripts/laptop_model.sh           # MODEL: the offline MiniLM unless set; says which and why
source scripts/imdb_common.sh            # DATA_ITEMS: the data it needs (IMDB: an 84 MB archive -> 2 CSVs)
need_data ${DATA_ITEMS[@]+"${DATA_ITEMS[@]}"}             # fetched and verified if missing, before the first step
EPOCHS="${EPOCHS:-1}"
# tuned for MiniLM (docs/results.md, "IMDB sentiment"); another model gets Sun et al.'s BERT rate, 2e-5
if [ "$MODEL_KIND" = minilm ]; then LR="${LR:-2e-4}"; else LR="${LR:-2e-5}"; fi
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
RUN_NAME="${RUN_NAME:-imdb_subset_${TRUNCATION}_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
REPORT="${REPORT:-1}"                    # 0: skip the summary + plots at the end (scripts/report.sh)

ARGS=("${COMMON[@]}" --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
      --per_device_train_batch_size "$BATCH" --per_device_eval_batch_size 64 --save_strategy epoch
      --save_total_limit 1 --logging_steps 20 --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
run python run_imdb.py "${ARGS[@]}"
finish_classification_run "$OUTPUT_DIR" "A wonderful, moving film."   # scripts/setup_env.sh
