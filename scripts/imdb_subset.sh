#!/usr/bin/env bash
# IMDB sentiment on a laptop: un-fine-tuned vs fine-tuned accuracy on the same test reviews, offline, <15 min
# on 2 CPU cores. Every knob below can be overridden, e.g.
#   TRUNCATION=head bash scripts/imdb_subset.sh
#   HF_HUB_OFFLINE=0 DATASET=imdb MAX_TRAIN_SAMPLES= MAX_EVAL_SAMPLES= MAX_PREDICT_SAMPLES= MAX_SEQ_LENGTH=512 \
#     LR=2e-5 EPOCHS=2 bash scripts/imdb_subset.sh          # full size with the hub: bert-base-uncased, 25k/25k
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

MODEL="${MODEL:-bert-base-uncased}"      # falls back to the offline MiniLM when it cannot be loaded
DATA_DIR="${DATA_DIR:-../shared/data}"
DATASET="${DATASET:-local}"              # local (DATA_DIR/imdb/*.csv.gz) or a hub name (imdb)
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-2000}"
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-500}"      # validation reviews, held out of train
MAX_PREDICT_SAMPLES="${MAX_PREDICT_SAMPLES-1000}"   # test reviews: scored before and after fine-tuning
VALIDATION_SIZE="${VALIDATION_SIZE:-1000}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-256}"
TRUNCATION="${TRUNCATION:-head_tail}"
EPOCHS="${EPOCHS:-1}"
LR="${LR:-2e-4}"
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
SEED="${SEED:-42}"
RUN_NAME="${RUN_NAME:-imdb_subset_${TRUNCATION}_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"

if [ "$DATASET" = "local" ]; then
  DATA_ARGS=(--train_file "$DATA_DIR/imdb/train.csv.gz" --test_file "$DATA_DIR/imdb/test.csv.gz")
else
  DATA_ARGS=(--dataset_name "$DATASET")
fi
ARGS=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --validation_size "$VALIDATION_SIZE"
      --max_seq_length "$MAX_SEQ_LENGTH" --truncation "$TRUNCATION" --do_train --do_eval --do_predict
      --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP" --per_device_train_batch_size "$BATCH"
      --per_device_eval_batch_size 64 --seed "$SEED" --save_strategy epoch --save_total_limit 1 --logging_steps 20
      --disable_tqdm true --report_to none --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
if [ -n "$MAX_TRAIN_SAMPLES" ]; then ARGS+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
if [ -n "$MAX_EVAL_SAMPLES" ]; then ARGS+=(--max_eval_samples "$MAX_EVAL_SAMPLES"); fi
if [ -n "$MAX_PREDICT_SAMPLES" ]; then ARGS+=(--max_predict_samples "$MAX_PREDICT_SAMPLES"); fi
echo "+ python run_imdb.py ${ARGS[*]}"
python run_imdb.py "${ARGS[@]}"
echo "+ python -m bertkit.table $OUTPUT_DIR.json"
python -m bertkit.table "$OUTPUT_DIR.json"
