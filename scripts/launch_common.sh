#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Sourced by scripts/*_full.sh after setup_env.sh, once OUTPUT_DIR and GLOBAL_BATCH are set. Gives the
# `accelerate launch` prefix (LAUNCH), the per-GPU batch that keeps the recipe's global batch
# (PER_DEVICE_BATCH x processes x GRAD_ACCUM = GLOBAL_BATCH), the GPU check, the GPU efficiency flags
# (SPEED_ARGS, TRAIN_SPEED_ARGS) and RESUME_ARGS. Every knob is an overridable variable:
ACCELERATE_CONFIG="${ACCELERATE_CONFIG:-scripts/accelerate/single_gpu_bf16.yaml}"
NUM_PROCESSES="${NUM_PROCESSES:-}"       # default: num_processes in ACCELERATE_CONFIG (the total over all machines)
NUM_MACHINES="${NUM_MACHINES:-}"         # multi-machine: these override the config (see scripts/accelerate/multi_node.yaml)
MACHINE_RANK="${MACHINE_RANK:-}"
MAIN_PROCESS_IP="${MAIN_PROCESS_IP:-}"
MAIN_PROCESS_PORT="${MAIN_PROCESS_PORT:-}"
GRAD_ACCUM="${GRAD_ACCUM:-1}"
PER_DEVICE_BATCH="${PER_DEVICE_BATCH:-}" # default: GLOBAL_BATCH / (NUM_PROCESSES x GRAD_ACCUM)
PRECISION="${PRECISION:-auto}"           # auto = bf16 on a bf16 GPU (and what the config asks), else fp32
MODEL_DTYPE="${MODEL_DTYPE:-float32}"    # weights as trained: fp32 master weights whatever the checkpoint holds
ATTN="${ATTN:-auto}"                     # what the model supports: sdpa (flash / memory-efficient kernels), else eager
PAD_TO_MULTIPLE_OF="${PAD_TO_MULTIPLE_OF:-}"   # default: 8 under bf16/fp16 on a GPU
SAMPLING="${SAMPLING:-group_by_length}"  # batches of similar length: less padding under dynamic padding
OPTIM="${OPTIM:-adamw_torch_fused}"
TF32="${TF32:-}"                         # default: on for Ampere or newer GPUs
WORKERS="${WORKERS:-4}"                  # dataloader workers per process
PIN_MEMORY="${PIN_MEMORY:-true}"         # switched off automatically without a GPU
TORCH_COMPILE="${TORCH_COMPILE:-false}"  # true: torch.compile the model (minutes of compiling first)
ALLOW_CPU="${ALLOW_CPU:-0}"

if [ ! -f "$ACCELERATE_CONFIG" ]; then
  echo "error: accelerate config $ACCELERATE_CONFIG not found; pick one in scripts/accelerate/ (ACCELERATE_CONFIG=...)" >&2
  exit 2
fi
if [ -z "$NUM_PROCESSES" ]; then
  NUM_PROCESSES="$(sed -n 's/^num_processes: *\([0-9][0-9]*\).*/\1/p' "$ACCELERATE_CONFIG")"
  NUM_PROCESSES="${NUM_PROCESSES:-1}"
fi
# accelerate's CPU path spawns one process unless it has mpirun: a use_cpu config runs torchrun + this instead.
if grep -q '^use_cpu: *true' "$ACCELERATE_CONFIG"; then export ACCELERATE_USE_CPU=true; fi

if ! python -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  if [ "$ALLOW_CPU" != 1 ]; then
    echo "error: no GPU visible (torch.cuda.is_available() is False): $(basename "$0") is a full-size GPU job" \
         "(days on a CPU). Run it on a GPU machine, use the laptop-sized scripts/*_subset.sh here, or set ALLOW_CPU=1" \
         "to run it on the CPU anyway." >&2
    exit 1
  fi
  echo "warning: no GPU; running on the CPU because ALLOW_CPU=1"
fi

if [ -z "$PER_DEVICE_BATCH" ]; then
  if [ $((GLOBAL_BATCH % (NUM_PROCESSES * GRAD_ACCUM))) -ne 0 ]; then
    echo "error: GLOBAL_BATCH=$GLOBAL_BATCH does not split over $NUM_PROCESSES processes x GRAD_ACCUM=$GRAD_ACCUM;" \
         "set GLOBAL_BATCH to a multiple of $((NUM_PROCESSES * GRAD_ACCUM)), or PER_DEVICE_BATCH" >&2
    exit 2
  fi
  PER_DEVICE_BATCH=$((GLOBAL_BATCH / (NUM_PROCESSES * GRAD_ACCUM)))
fi
echo "batch: $PER_DEVICE_BATCH per process x $NUM_PROCESSES processes x $GRAD_ACCUM accumulation" \
     "= $((PER_DEVICE_BATCH * NUM_PROCESSES * GRAD_ACCUM)) (recipe: $GLOBAL_BATCH)"

# `accelerate launch` where the CLI belongs to this python; else the same through python -m (wheels on PYTHONPATH)
if [ -x "$(dirname "$(command -v python)")/accelerate" ]; then ACCELERATE=(accelerate launch)
else ACCELERATE=(python -m accelerate.commands.launch); fi
LAUNCH=("${ACCELERATE[@]}" --config_file "$ACCELERATE_CONFIG" --num_processes "$NUM_PROCESSES")
if [ -n "$NUM_MACHINES" ]; then LAUNCH+=(--num_machines "$NUM_MACHINES"); fi
if [ -n "$MACHINE_RANK" ]; then LAUNCH+=(--machine_rank "$MACHINE_RANK"); fi
if [ -n "$MAIN_PROCESS_IP" ]; then LAUNCH+=(--main_process_ip "$MAIN_PROCESS_IP"); fi
if [ -n "$MAIN_PROCESS_PORT" ]; then LAUNCH+=(--main_process_port "$MAIN_PROCESS_PORT"); fi
export BERTKIT_LAUNCH="${LAUNCH[*]}"     # recorded in the results JSON (runtime.launch)

# SPEED_ARGS: for every script (run_baseline.py too); TRAIN_SPEED_ARGS: for the training scripts only.
SPEED_ARGS=(--precision "$PRECISION" --model_dtype "$MODEL_DTYPE" --attn_implementation "$ATTN"
            --dataloader_num_workers "$WORKERS" --dataloader_pin_memory "$PIN_MEMORY" --torch_compile "$TORCH_COMPILE")
TRAIN_SPEED_ARGS=(--optim "$OPTIM" --train_sampling_strategy "$SAMPLING" --ddp_find_unused_parameters false
                  --per_device_train_batch_size "$PER_DEVICE_BATCH" --gradient_accumulation_steps "$GRAD_ACCUM")
if [ -n "$PAD_TO_MULTIPLE_OF" ]; then SPEED_ARGS+=(--pad_to_multiple_of "$PAD_TO_MULTIPLE_OF"); fi
if [ -n "$TF32" ]; then SPEED_ARGS+=(--tf32 "$TF32"); fi

# A rerun with the same RUN_NAME (OUTPUT_DIR) goes on from its newest checkpoint.
RESUME_ARGS=()
if compgen -G "$OUTPUT_DIR/checkpoint-*" > /dev/null; then
  echo "resuming from the newest checkpoint in $OUTPUT_DIR"
  RESUME_ARGS=(--resume_from_checkpoint "$OUTPUT_DIR")
fi

# Only machine 0 holds the results when machines do not share a filesystem.
is_main_machine() { [ -z "$MACHINE_RANK" ] || [ "$MACHINE_RANK" = 0 ]; }
