#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Sourced by the laptop scripts after setup_env.sh: MODEL is the offline MiniLM (the model their recipes were
# tuned for) unless you set it, whatever the Hugging Face cache holds; MODEL_KIND (minilm | other) picks the
# recipe; one line says which model runs and why (bertkit/tools/laptop.py), another warns of the time for a bigger one.
#   MODEL=bert-base-uncased bash scripts/finetune_subset.sh     # its own recipe, with a time warning
# That warning's estimate starts from the MiniLM time of LAPTOP_JOB (set by the script) in its newest committed
# run in results/; JOB_MINUTES, if set, replaces that time.
choice="$(python -m bertkit.tools.laptop --job "${LAPTOP_JOB:-squad}" ${JOB_MINUTES:+--job_minutes "$JOB_MINUTES"} "${MODEL:-}")"
IFS=$'\t' read -r MODEL MODEL_KIND <<< "$choice"
