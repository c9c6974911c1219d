#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Knobs shared by the SQuAD scripts (sourced): the model, the data and the evaluation questions.
# The laptop scripts set MODEL first (scripts/laptop_model.sh: the offline MiniLM unless you set it).
MODEL="${MODEL:-bert-base-uncased}"      # falls back to the offline MiniLM when it cannot be loaded
DATA_DIR="${DATA_DIR:-$(python -m bertkit.data.fetch --where)}"   # else ../shared/data if it exists, else data/
DATASET="${DATASET:-dev-split}"          # dev-split (offline: dev articles 0-24 train, 25-34 eval; fetches the
                                         # official dev file if missing), official (the official train + dev files
                                         # in DATA_DIR, fetched if missing), files (TRAIN_FILE + VALIDATION_FILE,
                                         # your own), or a hub name (squad_v2)
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-1000}"   # empty = every eval question
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-256}"
DOC_STRIDE="${DOC_STRIDE:-64}"
EVAL_BATCH="${EVAL_BATCH:-32}"           # eval windows run longest first: on a CPU 32 beats 64 (benchmarks/eval_order.py)
SEED="${SEED:-42}"
PREDICTION_PRECISION="${PREDICTION_PRECISION:-fp32}"   # bf16: predictions under bf16 autocast, weights kept fp32
                                         # (faster on a CPU with bf16 in hardware; a few answers change: docs/results.md)
DEVICE="${DEVICE:-auto}"                 # auto: a CUDA GPU where there is one, else the CPU; mps: Apple's GPU (not yet
                                         # measured: the recipes were tuned on CPUs); cpu; cuda

DATA_ITEMS=()                            # what need_data fetches / verifies in DATA_DIR before the first step
case "$DATASET" in
  dev-split) DATA_ITEMS=(squad-dev)
             DATA_ARGS=(--protocol dev-split --validation_file "$DATA_DIR/squad_v2/dev-v2.0.json.gz") ;;
  official)  DATA_ITEMS=(squad-train squad-dev)
             DATA_ARGS=(--train_file "$DATA_DIR/squad_v2/train-v2.0.json.gz"
                        --validation_file "$DATA_DIR/squad_v2/dev-v2.0.json.gz") ;;
  files)     if [ -z "${TRAIN_FILE:-}" ] || [ -z "${VALIDATION_FILE:-}" ]; then
               echo "error: DATASET=files needs TRAIN_FILE=path/to/train.json and VALIDATION_FILE=path/to/dev.json" >&2
               exit 2
             fi
             DATA_ARGS=(--train_file "$TRAIN_FILE" --validation_file "$VALIDATION_FILE") ;;
  *)         DATA_ARGS=(--dataset_name "$DATASET") ;;
esac
COMMON=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --max_seq_length "$MAX_SEQ_LENGTH" --doc_stride "$DOC_STRIDE"
        --seed "$SEED" --per_device_eval_batch_size "$EVAL_BATCH" --report_to none --device "$DEVICE"
        --prediction_precision "$PREDICTION_PRECISION")
if [ -n "$MAX_EVAL_SAMPLES" ]; then COMMON+=(--max_eval_samples "$MAX_EVAL_SAMPLES"); fi
