#!/usr/bin/env bash
# One command that proves a GPU machine runs this project, offline: the environment, the SQuAD full script
# (dev-split, the offline MiniLM, every eval question), the IMDB full script (a stratified sample) and the
# throughput benchmark (steady state, vs the Hugging Face defaults), each checked against thresholds.
# Writes results/gpu_check/<RUN_NAME>.json (pass/fail per check, figures, provenance) and prints a table;
# exit 0 when every check passes, 1 when one fails. Each step's files and log: results/gpu_check/<RUN_NAME>/.
#   bash scripts/gpu_check.sh                                   # this checkout's .venv, ../shared/data
#   KIT=.gpu_kit VENV=system bash scripts/gpu_check.sh          # a GPU image's own Python + the offline kit (docs/gpu.md)
#   DRY=1 bash scripts/gpu_check.sh                             # the same wiring on a CPU, tiny model and sizes (CI)
# KIT: a folder laid out as ../shared/device plus the SQuAD dev file: whl/ (wheels the image lacks),
# minilm_bf16/ (the model), imdb_sample/{train,test}.csv.gz, squad_v2/dev-v2.0.json.gz. It sets the defaults
# WHEELS=$KIT/whl MODEL=$KIT/minilm_bf16 IMDB_DIR=$KIT/imdb_sample DATA_DIR=$KIT; each can be set alone.
set -euo pipefail
cd "$(dirname "$0")/.."
DRY="${DRY:-0}"
KIT="${KIT:-}"
if [ -n "$KIT" ]; then
  if [ ! -d "$KIT" ]; then echo "error: KIT=$KIT is not a folder; see scripts/gpu_check.sh for its layout" >&2; exit 2; fi
  export WHEELS="${WHEELS-$KIT/whl}"
  MODEL="${MODEL:-$KIT/minilm_bf16}"
  IMDB_DIR="${IMDB_DIR:-$KIT/imdb_sample}"
  DATA_DIR="${DATA_DIR:-$KIT}"
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1   # a check of this machine, not of the network
source scripts/setup_env.sh
export -n WHEELS   # installed once above (PYTHONPATH carries them); the steps' scripts need not install again
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"

DATA_DIR="${DATA_DIR:-$(python -m bertkit.data.fetch --where)}"
IMDB_DIR="${IMDB_DIR:-$DATA_DIR/imdb}"
RUN_NAME="${RUN_NAME:-gpu_check_$([ "$DRY" = 1 ] && echo dry_)$(date +%Y%m%d_%H%M%S)}"
RESULTS="${RESULTS:-results/gpu_check}"
RUN_DIR="$RESULTS/$RUN_NAME"
SUMMARY="$RESULTS/$RUN_NAME.json"
for f in "$DATA_DIR/squad_v2/dev-v2.0.json.gz" "$IMDB_DIR/train.csv.gz" "$IMDB_DIR/test.csv.gz"; do
  if [ ! -f "$f" ]; then echo "error: $f not found; set DATA_DIR / IMDB_DIR (or KIT) to the data folders" >&2; exit 2; fi
done
if [ -e "$SUMMARY" ] || [ -e "$RUN_DIR" ]; then
  echo "error: $SUMMARY or $RUN_DIR exists; choose another RUN_NAME (results are never overwritten)" >&2; exit 2
fi
resolve_model() {  # the model must be there, offline, before any step; its folder holds the benchmark's tokenizer
  python -c "import sys; from bertkit.errors import exit_on_user_error; from bertkit.train.modeling import resolve_model
exit_on_user_error(lambda: print(resolve_model(sys.argv[1])))" "$1"
}

if [ "$DRY" = 1 ]; then
  # The same wiring on a CPU, tiny sizes; by default a tiny random BERT stored in bf16 (as the kit's MiniLM).
  if [ -n "${MODEL:-}" ]; then TOKENIZER="$(resolve_model "$MODEL")" || exit 2; fi
  if [ "${PRINT_ONLY:-0}" != 1 ]; then mkdir -p "$RUN_DIR"; fi
  if [ -z "${MODEL:-}" ]; then
    MODEL="$RUN_DIR/tiny_bf16"
    run python -m bertkit.tools.gpu_check tiny-model "$MODEL" --tokenizer "$(resolve_model minilm)"
    TOKENIZER="$MODEL"
  fi
  export ALLOW_CPU=1 WORKERS=0 PIN_MEMORY=false
  SQUAD_SIZES=(MAX_TRAIN_SAMPLES=40 MAX_EVAL_SAMPLES=30 MAX_SEQ_LENGTH=128 DOC_STRIDE=32 EPOCHS=1 GLOBAL_BATCH=8 EVAL_BATCH=16
               CALIBRATION_SAMPLES=20)
  IMDB_SIZES=(MAX_TRAIN_SAMPLES=32 MAX_EVAL_SAMPLES=16 MAX_PREDICT_SAMPLES=24 VALIDATION_SIZE=50 MAX_SEQ_LENGTH=64
              EPOCHS=1 GLOBAL_BATCH=8 EVAL_BATCH=16)
  BENCH_SIZES=(--model "$MODEL" --max_questions 40 --batch_size 4 --steps 3 --max_seq_length 128 --doc_stride 32)
else
  MODEL="${MODEL:-minilm}"
  TOKENIZER="$(resolve_model "$MODEL")" || exit 2
  if [ "${PRINT_ONLY:-0}" != 1 ]; then mkdir -p "$RUN_DIR"; fi
  # The recipe measured on an H100 (issue 8): every dev-split eval question, 3 epochs at 1e-4, batch 32.
  # The calibrated threshold (auto) holds 400 training questions out (not 2,000): the recipe keeps 7,617 of 8,017.
  SQUAD_SIZES=(MAX_EVAL_SAMPLES= LR="${SQUAD_LR:-1e-4}" EPOCHS="${SQUAD_EPOCHS:-3}" GLOBAL_BATCH="${SQUAD_BATCH:-32}"
               CALIBRATION_SAMPLES="${SQUAD_CALIBRATION:-400}")
  IMDB_SIZES=()                              # imdb_full.sh's recipe on the sample (2e-5, up to 4 epochs, 512 tokens)
  BENCH_SIZES=()                             # bert-base architecture, batch 32, 200 steps or 60 s per set-up
fi

step() {  # step NAME command...: run it with its output in NAME.log, record exit code and seconds; never stop here
  local name="$1"; shift
  echo "== $name: $(shown "$@")"
  if [ "${PRINT_ONLY:-0}" = 1 ]; then return 0; fi   # PRINT_ONLY=1: the steps printed, none run
  local t0=$SECONDS rc=0
  "$@" > "$RUN_DIR/$name.log" 2>&1 || rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >> "$RUN_DIR/steps.tsv"
  echo "   exit $rc after $((SECONDS - t0)) s (log: $RUN_DIR/$name.log)"
}

step env python -m bertkit.tools.gpu_check env --output "$RUN_DIR/env.json"
step squad env "${SQUAD_SIZES[@]}" MODEL="$MODEL" DATA_DIR="$DATA_DIR" DATASET=dev-split \
     OUTPUT_DIR="$RUN_DIR/squad" BASELINE_DIR="$RUN_DIR/squad_baseline" BERTKIT_LAUNCHER="$BERTKIT_LAUNCHER" \
     bash scripts/finetune_full.sh
step imdb env ${IMDB_SIZES[@]+"${IMDB_SIZES[@]}"} MODEL="$MODEL" IMDB_DIR="$IMDB_DIR" DATASET=local OUTPUT_DIR="$RUN_DIR/imdb" \
     BERTKIT_LAUNCHER="$BERTKIT_LAUNCHER" bash scripts/imdb_full.sh
# shellcheck disable=SC2086  # BENCH_ARGS: more benchmark flags (e.g. "--batch_size 64"), split on purpose
step throughput python benchmarks/throughput.py ${BENCH_SIZES[@]+"${BENCH_SIZES[@]}"} ${BENCH_ARGS:-} --tokenizer "$TOKENIZER" --data_dir "$DATA_DIR" \
     --output "$RUN_DIR/throughput.json"

DRY_FLAG=(); if [ "$DRY" = 1 ]; then DRY_FLAG=(--dry); fi
run python -m bertkit.tools.gpu_check judge --run_dir "$RUN_DIR" --output "$SUMMARY" ${DRY_FLAG[@]+"${DRY_FLAG[@]}"} \
    --setting "MODEL=$MODEL" --setting "DATA_DIR=$DATA_DIR" --setting "IMDB_DIR=$IMDB_DIR" --setting "KIT=$KIT" \
    --setting "VENV=${VENV:-}" --setting "WHEELS=${WHEELS:-}" --setting "DRY=$DRY"
