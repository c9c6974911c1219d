#!/usr/bin/env bash
# The results people look at: RESULTS_DIR/summary.md (one row per run, before -> after, links) and the plots
# under RESULTS_DIR/plots/<run>/, from every results JSON there (runs, benchmarks/, gpu_check/, tuning/).
# Files it cannot read and partial runs are listed in the summary, never an error. Safe to rerun: the same
# results give byte-identical files.
#   bash scripts/report.sh                                   # results/summary.md
#   RESULTS_DIR=/path/to/results bash scripts/report.sh      # another results folder
#   RUN=squad_subset_20261125_173737 bash scripts/report.sh  # also print where that run's plots are
#   PLOTS=0 bash scripts/report.sh                           # the table only (no matplotlib needed)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

RESULTS_DIR="${RESULTS_DIR:-results}"
RUN="${RUN:-}"                           # a run's name (its JSON's name without .json)
PLOTS="${PLOTS:-1}"

if [ ! -d "$RESULTS_DIR" ]; then
  echo "error: RESULTS_DIR=$RESULTS_DIR is not a folder; run a script first, or point RESULTS_DIR at your results" >&2
  exit 2
fi
ARGS=(--results "$RESULTS_DIR")
if [ -n "$RUN" ]; then ARGS+=(--run "$RUN"); fi
if [ "$PLOTS" = 0 ]; then ARGS+=(--no_plots); fi
run python -m bertkit.report.summary "${ARGS[@]}"
