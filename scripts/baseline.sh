#!/usr/bin/env bash
# SQuAD 2.0 baseline: the model before fine-tuning on the held-out questions, the demo question, and the
# "no answer everywhere" reference. Knobs: those of scripts/squad_common.sh, RUN_NAME, OUTPUT_DIR.
#   bash scripts/baseline.sh
#   MODEL=path/to/model MAX_EVAL_SAMPLES= bash scripts/baseline.sh      # empty = all eval questions
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"
LAPTOP_JOB=baseline                      # evaluation only: the estimate for another model reads the baseline runs
source scripts/laptop_model.sh           # MODEL: the offline MiniLM unless set; says which and why
source scripts/squad_common.sh           # DATA_ITEMS: the data it needs (the dev file)
need_data ${DATA_ITEMS[@]+"${DATA_ITEMS[@]}"}             # fetched and verified if missing, before the first step
RUN_NAME="${RUN_NAME:-squad_baseline_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
run python run_baseline.py "${COMMON[@]}" --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json"
