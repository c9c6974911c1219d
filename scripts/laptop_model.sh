#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Sourced by the laptop scripts after setup_env.sh: MODEL is the offline MiniLM (the model their recipes were
# tuned for) unless you set it, whatever the Hugging Face cache holds; MODEL_KIND (minilm | other) picks the
# recipe; one line says which model runs and why (bertkit/train/laptop.py), another warns of the time for a bigger one.
#   MODEL=bert-base-uncased bash scripts/finetune_subset.sh     # its own recipe, with a time warning
JOB_MINUTES="${JOB_MINUTES:-10}"          # the MiniLM job's training time, for that warning's estimate
choice="$(python -m bertkit.train.laptop --job_minutes "$JOB_MINUTES" "${MODEL:-}")"
IFS=$'\t' read -r MODEL MODEL_KIND <<< "$choice"
