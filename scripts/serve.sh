#!/usr/bin/env bash
# Serve a fine-tuned model: the web page at / and the JSON API (/answer or /classify, /health), offline.
#   bash scripts/serve.sh --model results/squad_subset_<time>           # the newest run if --model is left out
#   HOST=0.0.0.0 PORT=8080 bash scripts/serve.sh --model results/imdb_subset_head_tail_<time>
# Knobs: HOST (127.0.0.1: this machine only), PORT (8000); other serve.py flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
ARGS=("$@")
if [[ " $* " != *" --model "* ]]; then  # the newest fine-tuned run that still holds its model
  newest=""
  for d in results/squad_subset_* results/imdb_subset_*; do
    case "$d" in *_baseline) continue ;; esac
    if [ -f "$d/model.safetensors" ] && { [ -z "$newest" ] || [ "$d" -nt "$newest" ]; }; then newest="$d"; fi
  done
  if [ -z "$newest" ]; then
    echo "error: no fine-tuned model under results/ (run bash scripts/finetune_subset.sh first), or pass --model <folder>" >&2
    exit 2
  fi
  echo "model: $newest (the newest run with a model; pass --model for another)" >&2
  ARGS=(--model "$newest" ${ARGS[@]+"${ARGS[@]}"})
fi
run python serve.py --host "$HOST" --port "$PORT" ${ARGS[@]+"${ARGS[@]}"}
