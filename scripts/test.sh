#!/usr/bin/env bash
# The test suite: creates .venv if needed, then runs pytest offline (15-20 min on 2 CPU cores).
#   bash scripts/test.sh               # everything
#   bash scripts/test.sh -k scoring    # pytest arguments pass through
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
echo "+ python -m pytest tests $*"
python -m pytest tests -ra --durations=10 "$@"
