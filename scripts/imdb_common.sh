#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Knobs shared by the IMDB scripts (sourced; a script sets its own defaults for the sizes first).
# The laptop script sets MODEL first (scripts/laptop_model.sh: the offline MiniLM unless you set it).
MODEL="${MODEL:-bert-base-uncased}"      # falls back to the offline MiniLM when it cannot be loaded
DATA_DIR="${DATA_DIR:-$(python -m bertkit.data.fetch --where)}"   # else ../shared/data if it exists, else data/
DATASET="${DATASET:-local}"              # local (IMDB_DIR/{train,test}.csv.gz) or a hub name (imdb)
DATA_ITEMS=()                            # what need_data fetches / verifies in DATA_DIR before the first step
if [ "$DATASET" = local ] && [ -z "${IMDB_DIR:-}" ]; then
  DATA_ITEMS=(imdb)                      # the official reviews in DATA_DIR/imdb, fetched if missing
fi
IMDB_DIR="${IMDB_DIR:-$DATA_DIR/imdb}"   # set it to use your own {train,test}.csv.gz as they are
MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-}"       # empty: every review
MAX_EVAL_SAMPLES="${MAX_EVAL_SAMPLES-}"         # validation reviews, held out of train
MAX_PREDICT_SAMPLES="${MAX_PREDICT_SAMPLES-}"   # test reviews: scored before and after fine-tuning
VALIDATION_SIZE="${VALIDATION_SIZE:-1000}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-256}"
TRUNCATION="${TRUNCATION:-head_tail}"    # head (first tokens) or head_tail (first 128 + last 382 of 510, scaled)
SEED="${SEED:-42}"
DEVICE="${DEVICE:-auto}"                 # auto: a CUDA GPU where there is one, else the CPU; mps: Apple's GPU (not yet
                                         # measured: the recipes were tuned on CPUs); cpu; cuda

if [ "$DATASET" = "local" ]; then
  DATA_ARGS=(--train_file "$IMDB_DIR/train.csv.gz" --test_file "$IMDB_DIR/test.csv.gz")
else
  DATA_ARGS=(--dataset_name "$DATASET")
fi
COMMON=(--model_name_or_path "$MODEL" "${DATA_ARGS[@]}" --validation_size "$VALIDATION_SIZE"
        --max_seq_length "$MAX_SEQ_LENGTH" --truncation "$TRUNCATION" --seed "$SEED" --report_to none --device "$DEVICE"
        --do_train --do_eval --do_predict --disable_tqdm true)
if [ -n "$MAX_TRAIN_SAMPLES" ]; then COMMON+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
if [ -n "$MAX_EVAL_SAMPLES" ]; then COMMON+=(--max_eval_samples "$MAX_EVAL_SAMPLES"); fi
if [ -n "$MAX_PREDICT_SAMPLES" ]; then COMMON+=(--max_predict_samples "$MAX_PREDICT_SAMPLES"); fi
