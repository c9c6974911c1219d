#!/usr/bin/env bash
# SQuAD 2.0 baseline: the model before fine-tuning on the held-out questions, the demo question, and the
# "no answer everywhere" reference. Same knobs as finetune_subset.sh.
#   bash scripts/baseline.sh
#   MODEL=path/to/model MAX_EVAL_SAMPLES= bash scripts/baseline.sh      # empty = all eval questions
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

MODEL="${MODEL:-bert-base-uncased}"
DATA_DIR="${DATA_DIR:-../shared/data}"
DATASET="${DATASET:-dev-split}"
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-500}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-256}"
DOC_STRIDE="${DOC_STRIDE:-64}"
SEED="${SEED:-42}"
RUN_NAME="${RUN_NAME:-squad_baseline_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"

if [ "$DATASET" = "dev-split" ]; then
  DATA_ARGS=(--protocol dev-split --validation_file "$DATA_DIR/squad_v2/dev-v2.0.json.gz")
else
  DATA_ARGS=(--dataset_name "$DATASET")
fi
ARGS=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --max_seq_length "$MAX_SEQ_LENGTH" --doc_stride "$DOC_STRIDE"
      --seed "$SEED" --per_device_eval_batch_size 64 --report_to none --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json")
[ -n "$MAX_EVAL_SAMPLES" ] && ARGS+=(--max_eval_samples "$MAX_EVAL_SAMPLES")
echo "+ python run_baseline.py ${ARGS[*]}"
python run_baseline.py "${ARGS[@]}"
