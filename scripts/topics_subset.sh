#!/usr/bin/env bash
# A real 35-class task on a laptop, offline: the paragraphs of the SQuAD v2.0 dev file labelled by their article's
# title (bertkit/data/tasks.py; 80/20 of each article's paragraphs, seeded), un-fine-tuned vs fine-tuned on the
# same test paragraphs, with run_classification.py; the offline MiniLM unless MODEL is set; the dev file fetched
# into DATA_DIR if missing. Your own labelled files: docs/your-data.md. Every knob below can be overridden, e.g.
#   EPOCHS=5 bash scripts/topics_subset.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

LAPTOP_JOB=topics                        # the estimate for another model reads the committed topic runs' times
source scripts/laptop_model.sh           # MODEL: the offline MiniLM unless set; says which and why
DATA_DIR="${DATA_DIR:-$(python -m bertkit.data.fetch --where)}"   # else ../shared/data if it exists, else data/
need_data squad-dev                      # the official dev file, fetched and verified if missing
SPLIT_SEED="${SPLIT_SEED:-42}"           # which paragraphs of each article are test paragraphs
TASK_DIR="${TASK_DIR:-outputs/topics_seed$SPLIT_SEED}"   # the built train.csv / test.csv (kept; rebuilt only if missing)
SEED="${SEED:-42}"
EPOCHS="${EPOCHS:-3}"
if [ "$MODEL_KIND" = minilm ]; then LR="${LR:-2e-4}"; else LR="${LR:-2e-5}"; fi   # as scripts/imdb_subset.sh
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
VALIDATION_SIZE="${VALIDATION_SIZE:-100}" # paragraphs held out of train (stratified) for the validation score
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-128}"  # most paragraphs run past it; their first 128 tokens show the topic
TRUNCATION="${TRUNCATION:-head}"
DEVICE="${DEVICE:-auto}"
RUN_NAME="${RUN_NAME:-topics_subset_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
REPORT="${REPORT:-1}"                    # 0: skip the summary + plots at the end (scripts/report.sh)

run python -m bertkit.data.tasks topics --squad_file "$DATA_DIR/squad_v2/dev-v2.0.json.gz" --out_dir "$TASK_DIR" \
    --seed "$SPLIT_SEED"
run python run_classification.py --model_name_or_path "$MODEL" --train_file "$TASK_DIR/train.csv" \
    --test_file "$TASK_DIR/test.csv" --validation_size "$VALIDATION_SIZE" --max_seq_length "$MAX_SEQ_LENGTH" \
    --truncation "$TRUNCATION" --seed "$SEED" --report_to none --device "$DEVICE" --do_train --do_eval --do_predict \
    --disable_tqdm true --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP" \
    --per_device_train_batch_size "$BATCH" --per_device_eval_batch_size 64 --save_strategy epoch --save_total_limit 1 \
    --logging_steps 10 --output_dir "$OUTPUT_DIR" --results_file "$OUTPUT_DIR.json"
finish_classification_run "$OUTPUT_DIR" "The Normans conquered England in 1066."   # scripts/setup_env.sh
