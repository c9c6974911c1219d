#!/usr/bin/env bash
# Fetch and verify the official data into DATA_DIR (else ../shared/data if it exists, else data/ here, which
# git ignores). Files already there are verified, never fetched again. Standard-library Python only: no .venv.
#   bash scripts/get_data.sh                       # squad-dev: what the laptop SQuAD job needs (4.4 MB)
#   bash scripts/get_data.sh squad-dev imdb        # + IMDB (84 MB archive from Stanford -> imdb/{train,test}.csv.gz)
#   bash scripts/get_data.sh squad-train squad-dev # the official train set (42 MB) too, for DATASET=official
#   DATA_OFFLINE=1 bash scripts/get_data.sh imdb   # verify only; a missing file is one error line with its URL
# Mirrors: SQUAD_BASE_URL, IMDB_BASE_URL. Timeout per connect/read: FETCH_TIMEOUT (seconds, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
ARGS=()
if [ -n "${DATA_DIR:-}" ]; then ARGS+=(--data_dir "$DATA_DIR"); fi
echo "+ $PYTHON -m bertkit.data.fetch ${ARGS[*]+${ARGS[*]}} ${*:-squad-dev}"
if [ "${PRINT_ONLY:-0}" = 1 ]; then exit 0; fi   # PRINT_ONLY=1: print the command, run nothing
exec "$PYTHON" -m bertkit.data.fetch ${ARGS[@]+"${ARGS[@]}"} "${@:-squad-dev}"
