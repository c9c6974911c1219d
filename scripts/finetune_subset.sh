#!/usr/bin/env bash
# SQuAD 2.0 on a laptop: baseline -> fine-tune -> calibrate -> evaluate -> before/after table, offline, 2 CPU cores.
#   bash scripts/finetune_subset.sh              # the default job: long enough to learn which questions have no answer
#   QUICK=1 bash scripts/finetune_subset.sh      # shorter: learns answer spans only (its threshold abstains everywhere)
#   MAX_TRAIN_SAMPLES=2000 EPOCHS=2 bash scripts/finetune_subset.sh     # every knob below can be overridden
#   MODEL=bert-base-uncased bash scripts/finetune_subset.sh   # another model: its own recipe, a time warning
#   DEVICE=mps bash scripts/finetune_subset.sh   # Apple's GPU, not yet measured (default: the CPU, even where MPS is)
# The model: the offline MiniLM unless MODEL is set (scripts/laptop_model.sh). The data: the official dev file
# in DATA_DIR (else ../shared/data, else data/), fetched and verified before the first step if missing
# (DATA_OFFLINE=1: never fetch). Knobs for model and data: scripts/squad_common.sh (DATA_DIR, DATASET, ...).
# The budget behind the default: results/learning_curve/README.md (benchmarks/learning_curve.py).
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then  # the first line the user reads: what this job is, and what it is not
  echo "QUICK=1: the short job. It learns answer spans, not which questions have no answer (its calibrated" \
       "threshold abstains everywhere); for a model that answers, run the default job without QUICK (docs/results.md)."
fi
source scripts/setup_env.sh
export BERTKIT_LAUNCHER="${BERTKIT_LAUNCHER:-bash scripts/$(basename "$0")}"
# which committed runs give the estimate for another model (bertkit/tools/laptop.py)
if [ "$QUICK" = 1 ]; then LAPTOP_JOB=squad_quick; else LAPTOP_JOB=squad; fi
# what the wait is, before the user waits (the time itself is measured on this machine); not when the budget or the
# baseline is the user's own: the run's banner shows what it does
if [ "$QUICK" != 1 ] && [ -z "${EPOCHS:-}${MAX_TRAIN_SAMPLES+set}${BASELINE:-}" ]; then
  echo "the default job: a baseline, then 2.4 passes of training over the training questions, then evaluation;" \
       "after its first 120 training steps it prints how long training takes on this machine." \
       "QUICK=1 is shorter but does not answer"
fi
source scripts/laptop_model.sh           # MODEL, MODEL_KIND; says which model and why
source scripts/squad_common.sh           # DATA_ITEMS: the data it needs (the dev file)
need_data ${DATA_ITEMS[@]+"${DATA_ITEMS[@]}"}             # fetched and verified if missing, before the first step

# The recipe, for MiniLM on 2 CPU cores. The default job's budget is the smallest measured on the learning curve
# (results/learning_curve/README.md) at which the calibrated model beats answering "no answer" everywhere;
# QUICK=1 is the earlier short job (results/tuning/README.md): one pass over 3,200 questions, enough for
# spans, not for answerability. Both cap the unanswerable share of training (few unanswerable questions keep a
# small budget from learning only "no answer"). The no-answer threshold is calibrated on CALIBRATION_SAMPLES
# training-side questions held out of training. Another model gets the Hugging Face BERT rate (5e-5): MiniLM's
# 3e-4 is far above what bert-base tolerates. PRECISION=auto trains in bf16 where the CPU has bf16 in hardware
# (faster there; measured: docs/results.md), else fp32; predictions are fp32 either way.
if [ "$QUICK" = 1 ]; then
  MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-3200}"
  EPOCHS="${EPOCHS:-1}"
else
  MAX_TRAIN_SAMPLES="${MAX_TRAIN_SAMPLES-}"   # empty: every training question the cap keeps
  EPOCHS="${EPOCHS:-2.4}"                     # the curve's first point that beats "no answer" by 2+ with HasAns F1 >= 25 and the demo answered (results/learning_curve/README.md)
fi
UNANSWERABLE_FRACTION="${UNANSWERABLE_FRACTION-0.2}"
if [ "$MODEL_KIND" = minilm ]; then LR="${LR:-3e-4}"; else LR="${LR:-5e-5}"; fi
# The new QA head learns at its own rate (the encoder at LR): 3e-3 for MiniLM in the default job (better than one
# rate at its budget; measured: docs/results.md, the learning curve); QUICK and other models: one rate (empty).
if [ "$MODEL_KIND" = minilm ] && [ "$QUICK" != 1 ]; then HEAD_LR="${HEAD_LR-3e-3}"; else HEAD_LR="${HEAD_LR-}"; fi
PRECISION="${PRECISION:-auto}"           # auto | fp32 | bf16
# Training-speed levers on a CPU, each measured on and off (benchmarks/train_profile.py, docs/results.md): no
# dropout on attention weights (drawing its random masks is a large share of a CPU step; MiniLM's recipe was
# checked on 3 seeds without it, so other models keep theirs) and eager attention in the training steps (faster
# than sdpa's CPU backward once that dropout is off; predictions and the saved model stay sdpa). Off on a GPU:
# not yet measured there. Each knob empty turns that lever off. TORCH_COMPILE=1 compiles the model for training:
# off by default, as its first compile costs more than it saves in this job (docs/results.md); later runs
# reuse the compile cache. Where this machine cannot compile, the run trains without, saying so.
ON_CPU=0   # does this job train on the CPU (DEVICE=auto: where torch sees no CUDA GPU)?
if [ "$DEVICE" = cpu ] || { [ "$DEVICE" = auto ] && python -c 'import sys, torch; sys.exit(torch.cuda.is_available())'; }; then
  ON_CPU=1
fi
if [ "$MODEL_KIND" = minilm ] && [ "$ON_CPU" = 1 ]; then ATTENTION_DROPOUT="${ATTENTION_DROPOUT-0}"; else ATTENTION_DROPOUT="${ATTENTION_DROPOUT-}"; fi
if [ "$ON_CPU" = 1 ]; then TRAIN_ATTN_IMPLEMENTATION="${TRAIN_ATTN_IMPLEMENTATION-eager}"; else TRAIN_ATTN_IMPLEMENTATION="${TRAIN_ATTN_IMPLEMENTATION-}"; fi
TORCH_COMPILE="${TORCH_COMPILE:-0}"
FREEZE_LAYERS="${FREEZE_LAYERS-}"        # embeddings + the first N layers not trained (empty: train everything)
LATE_NO_ANSWER_SHARE="${LATE_NO_ANSWER_SHARE-}"   # no-answer windows in the last this share of the epoch (empty: shuffled)
# Short texts (issue 30): the default job also asks half its training questions again with one sentence as the
# context (the answer's, and a random one without it as "no answer"); measured on 3 seeds, docs/results.md
# (answering short texts). QUICK=1 keeps its budget without them. Empty: off.
if [ "$QUICK" = 1 ]; then SHORT_CONTEXT_SHARE="${SHORT_CONTEXT_SHARE-}"; else SHORT_CONTEXT_SHARE="${SHORT_CONTEXT_SHARE-0.5}"; fi
SHORT_CONTEXT_NEGATIVES="${SHORT_CONTEXT_NEGATIVES:-random}"   # their sentence without the answer: random | closest | mixed | none
SHORT_CONTEXT_SWAP="${SHORT_CONTEXT_SWAP:-}"   # 1: also the question with a name swapped, against its sentence, as no answer (empty: off)
ANSWERABILITY_HEAD_WEIGHT="${ANSWERABILITY_HEAD_WEIGHT:-}"   # e.g. 1: a second head on the first token, "is the answer here?" (empty: none)
WEIGHT_AVERAGE_SHARE="${WEIGHT_AVERAGE_SHARE:-}"   # e.g. 0.3: save the mean of the weights over the last 30 % of the steps
WARMUP="${WARMUP:-0.1}"
BATCH="${BATCH:-16}"
THRESHOLD="${THRESHOLD:-auto}"           # no-answer threshold: auto = calibrated on held-out training questions
CALIBRATION_SAMPLES="${CALIBRATION_SAMPLES:-400}"
CALIBRATION_UNIT="${CALIBRATION_UNIT:-article}"      # held out whole: article (the eval articles are new too) | paragraph
CALIBRATION_METHOD="${CALIBRATION_METHOD:-expected_gain}"   # expected_gain | max_f1 (bertkit/qa/scoring.py)
# The answer floor (issue 30): the calibrated threshold is raised where it would answer fewer than 0.6 x as many
# calibration questions as are answerable there (seeds it was not chosen on, both precisions: docs/results.md,
# answering short texts). MiniLM's default job only: on weaker models (QUICK=1, other models' recipes) the
# learning curve's points lose paragraph F1 to it. Empty: off.
if [ "$QUICK" != 1 ] && [ "$MODEL_KIND" = minilm ]; then
  CALIBRATION_ANSWER_FLOOR="${CALIBRATION_ANSWER_FLOOR-0.6}"
else
  CALIBRATION_ANSWER_FLOOR="${CALIBRATION_ANSWER_FLOOR-}"
fi
EXTRA_ARGS="${EXTRA_ARGS:-}"             # more run_squad.py flags, e.g. EXTRA_ARGS="--freeze_word_embeddings true"
BASELINE="${BASELINE:-1}"                # 0: skip the before-training evaluation (recipe search)
REPORT="${REPORT:-1}"                    # 0: no results/summary.md and plots at the end
RUN_NAME="${RUN_NAME:-squad_subset_$(date +%Y%m%d_%H%M%S)}"
OUTPUT_DIR="${OUTPUT_DIR:-results/$RUN_NAME}"
RESULTS_FILE="${RESULTS_FILE:-$OUTPUT_DIR.json}"
BASELINE_DIR="${BASELINE_DIR:-${OUTPUT_DIR}_baseline}"

BASELINE_ARGS=()
if [ "$BASELINE" = 1 ]; then
  echo "== 1/3 baseline: the model before fine-tuning"
  run python run_baseline.py "${COMMON[@]}" --output_dir "$BASELINE_DIR" --results_file "$BASELINE_DIR.json"
  BASELINE_ARGS=(--baseline_results "$BASELINE_DIR.json")
fi

echo "== 2/3 fine-tune, then evaluate on the same questions"
TRAIN=(--do_train --do_eval --num_train_epochs "$EPOCHS" --learning_rate "$LR" --warmup_steps "$WARMUP"
       --per_device_train_batch_size "$BATCH" --train_sampling_strategy group_by_length
       --save_strategy epoch --save_total_limit 1 --logging_steps 20 --disable_tqdm true)
if [ -n "$MAX_TRAIN_SAMPLES" ]; then TRAIN+=(--max_train_samples "$MAX_TRAIN_SAMPLES"); fi
if [ -n "$UNANSWERABLE_FRACTION" ]; then TRAIN+=(--max_train_unanswerable_fraction "$UNANSWERABLE_FRACTION"); fi
if [ -n "$FREEZE_LAYERS" ]; then TRAIN+=(--freeze_layers "$FREEZE_LAYERS"); fi
if [ -n "$LATE_NO_ANSWER_SHARE" ]; then TRAIN+=(--late_no_answer_share "$LATE_NO_ANSWER_SHARE"); fi
if [ -n "$SHORT_CONTEXT_SHARE" ]; then
  TRAIN+=(--short_context_share "$SHORT_CONTEXT_SHARE" --short_context_negatives "$SHORT_CONTEXT_NEGATIVES")
fi
# passed on its own: without SHORT_CONTEXT_SHARE (QUICK=1) run_squad.py says why it cannot, rather than ignore it
if [ -n "$SHORT_CONTEXT_SWAP" ]; then TRAIN+=(--short_context_swap "$SHORT_CONTEXT_SWAP"); fi
if [ -n "$HEAD_LR" ]; then TRAIN+=(--head_learning_rate "$HEAD_LR"); fi
if [ -n "$ATTENTION_DROPOUT" ]; then TRAIN+=(--attention_dropout "$ATTENTION_DROPOUT"); fi
if [ -n "$TRAIN_ATTN_IMPLEMENTATION" ]; then TRAIN+=(--train_attn_implementation "$TRAIN_ATTN_IMPLEMENTATION"); fi
if [ -n "$ANSWERABILITY_HEAD_WEIGHT" ]; then TRAIN+=(--answerability_head_weight "$ANSWERABILITY_HEAD_WEIGHT"); fi
if [ -n "$WEIGHT_AVERAGE_SHARE" ]; then TRAIN+=(--weight_average_share "$WEIGHT_AVERAGE_SHARE"); fi
if [ -n "$CALIBRATION_ANSWER_FLOOR" ]; then TRAIN+=(--calibration_answer_floor "$CALIBRATION_ANSWER_FLOOR"); fi
TRAIN+=(--torch_compile "$TORCH_COMPILE")
TRAIN+=(--null_score_diff_threshold "$THRESHOLD" --calibration_samples "$CALIBRATION_SAMPLES"
       --calibration_unit "$CALIBRATION_UNIT" --calibration_method "$CALIBRATION_METHOD" --precision "$PRECISION")
read -r -a EXTRA <<< "$EXTRA_ARGS"
run python run_squad.py "${COMMON[@]}" "${TRAIN[@]}" ${EXTRA[@]+"${EXTRA[@]}"} --output_dir "$OUTPUT_DIR" \
    --results_file "$RESULTS_FILE" ${BASELINE_ARGS[@]+"${BASELINE_ARGS[@]}"}

echo "== 3/3 before / after"
optional python -m bertkit.report.table "$RESULTS_FILE"
if [ "$REPORT" = 1 ]; then  # the summary of every run beside this one, and this run's plots (paths printed)
  optional env RESULTS_DIR="$(dirname "$RESULTS_FILE")" RUN="$(basename "$RESULTS_FILE" .json)" bash scripts/report.sh
fi
echo "results: $RESULTS_FILE (predictions in $OUTPUT_DIR/)"
# What to type next, as it runs in a new terminal (nothing activated there; VENV_PYTHON: scripts/setup_env.sh)
echo "ask it:   $VENV_PYTHON ask.py --model $OUTPUT_DIR --question 'What is the capital of China?' --context 'The capital of China is Beijing.'"
echo "serve it: bash scripts/serve.sh --model $OUTPUT_DIR   # the page at http://127.0.0.1:8000/ and the API"
