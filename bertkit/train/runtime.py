"""How a run uses its hardware (precision, TF32, attention kernel, padding, loaders) and how it was launched.

Every knob is a flag with a default that is right for the machine it lands on (bf16 + TF32 on an
Ampere-or-newer GPU, fp32 on a CPU); `runtime_record` writes what was actually used into the results JSON.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from ..errors import UserError
from .device import device_flags, mps_available
from .attention import ATTENTION_DROPOUT_KEYS

log = logging.getLogger(__name__)

CPU_CONFIG = "scripts/accelerate/cpu_2proc.yaml"
_LAUNCHER_RANK_VARS = ("WORLD_SIZE", "LOCAL_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def check_launch(training_args):
    """Refuse the two launches that look distributed but are not (each copy would redo and rewrite the whole job)."""
    env = os.environ
    # accelerate's --cpu path starts ONE process unless it is given an mpirun hostfile; it still sets MASTER_ADDR.
    if env.get("ACCELERATE_USE_CPU") == "True" and "MASTER_ADDR" in env and not any(v in env for v in _LAUNCHER_RANK_VARS):
        raise UserError("`accelerate launch --cpu --num_processes N` starts one process, not N (accelerate needs mpirun "
                        f"for that); for N CPU processes run: ACCELERATE_USE_CPU=true accelerate launch --config_file "
                        f"{CPU_CONFIG} --num_processes N ...")
    # torchrun / --multi_gpu on a machine without GPUs: N copies that each think they are alone.
    launched = int(env.get("WORLD_SIZE", "1"))
    if launched > 1 and training_args.world_size != launched:
        raise UserError(f"launched {launched} processes but they did not form one job (world size "
                        f"{training_args.world_size}): without GPUs set ACCELERATE_USE_CPU=true (or pass --use_cpu)")


def cpu_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX): there bf16 autocast trains faster than
    fp32; without it, bf16 is emulated and slower (measured: docs/results.md). BERTKIT_CPU_BF16=0/1 overrides
    the detection."""
    forced = os.environ.get("BERTKIT_CPU_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    import torch
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        probe = getattr(getattr(torch, "cpu", None), name, None)
        try:
            if probe is not None and probe():
                return True
        except Exception:  # a private probe that changed: fall back to the kernel's flags
            break
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


COMPILE_FALLBACK = {}  # why --torch_compile was turned off on this machine, if it was (runtime_record reports it)


def compile_problem() -> str | None:
    """Why torch.compile cannot run on this CPU, or None: a tiny function is compiled and run. Inductor builds C++
    kernels on a CPU, so it needs a C++ compiler, Python's headers and, on macOS, OpenMP; a machine without them
    would otherwise fail at the first training step, after minutes of preprocessing."""
    import torch
    try:
        torch.compile(lambda x: torch.nn.functional.gelu(x) * 2 + 1)(torch.randn(8, 8))
        return None
    except Exception as e:  # any failure of the toolchain: train eagerly rather than not at all
        torch.compiler.reset()
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        return f"{type(e).__name__}: {first[:200]}"


def resolve_runtime(model_args, training_args):
    """Fill the 'auto' knobs for this machine; an explicit flag always wins. Returns new TrainingArguments.

    --precision auto: bf16 on a GPU that has it (fp16 if the accelerate config asks for fp16). On a CPU: bf16
    autocast for training where the CPU has bf16 in hardware (cpu_native_bf16), else fp32; a CPU run that
    trained in bf16 still predicts in fp32 (BertkitTrainer), as ask.py does, so its numbers are ask.py's.
    """
    import torch
    check_launch(training_args)
    flags = device_flags(model_args.device)  # CUDA where there is a GPU, else the CPU; MPS only when asked
    cuda = torch.cuda.is_available() and model_args.device in ("auto", "cuda")
    p = model_args.precision
    if p not in ("auto", "bf16", "fp16", "fp32"):
        raise UserError(f"--precision {p!r} is not one of auto, bf16, fp16, fp32")
    if model_args.prediction_precision not in ("fp32", "bf16"):
        raise UserError(f"--prediction_precision {model_args.prediction_precision!r} is not one of fp32, bf16")
    if model_args.prediction_precision == "bf16" and not cuda and not cpu_native_bf16():
        log.warning("--prediction_precision bf16: this CPU has no bf16 in hardware, so bf16 predictions are emulated "
                    "and slower than fp32; drop the flag")
    if not (training_args.bf16 or training_args.fp16):
        if p == "auto" and cuda:  # an accelerate config's fp16 wins; else bf16 where the GPU has it
            if os.environ.get("ACCELERATE_MIXED_PRECISION") == "fp16":
                flags["fp16"] = True
            elif torch.cuda.is_bf16_supported():
                flags["bf16"] = True
        elif p == "auto" and training_args.do_train and cpu_native_bf16():
            flags["bf16"] = True
        elif p in ("bf16", "fp16"):
            flags[p] = True
    low = flags.get("bf16") or flags.get("fp16") or training_args.bf16 or training_args.fp16
    if not cuda and model_args.device != "mps" and low:
        flags["use_cpu"] = True  # TrainingArguments refuses bf16/fp16 without a GPU unless told it is a CPU run
    if training_args.tf32 is None and cuda and torch.cuda.get_device_capability() >= (8, 0):
        flags["tf32"] = True  # fp32 matmuls (the bits autocast leaves in fp32) on tensor cores
    if not cuda:
        flags["dataloader_pin_memory"] = False  # nothing to pin to; avoids a warning per dataloader
    if not cuda and model_args.device != "mps" and (flags.get("fp16") or training_args.fp16):
        raise UserError("--precision fp16 (or --fp16) needs a CUDA GPU; on a CPU use --precision bf16 or fp32 "
                        "(PRECISION=... in the scripts)")
    if training_args.torch_compile and not cuda and (training_args.do_train or training_args.do_eval):
        problem = compile_problem()
        if problem:
            COMPILE_FALLBACK["reason"] = problem
            log.warning("--torch_compile: torch.compile does not work on this machine (%s); training without it "
                        "(slower, the same recipe). Install a C++ compiler (Linux: g++ and python3-dev; macOS: xcode-select "
                        "--install and brew install libomp), or pass --torch_compile false (TORCH_COMPILE=0)", problem)
            flags.update(torch_compile=False, torch_compile_backend=None, torch_compile_mode=None)  # all three: a
            # backend or mode left set turns torch_compile back on when TrainingArguments re-initialises
    args = dataclasses.replace(training_args, **flags) if flags else training_args
    if not (args.bf16 or args.fp16) or args.use_cpu:
        # fp32 as decided above, whatever an accelerate config says; on a CPU, bf16 is autocast by BertkitTrainer
        # in training steps only (bertkit/train/trainer.py), so that predictions run in fp32
        args.mixed_precision = "no"
    return args


def complete_checkpoint(path) -> bool:
    """A checkpoint the Trainer finished saving: trainer_state.json, written last, is there and parses."""
    import json
    try:
        json.loads((Path(path) / "trainer_state.json").read_text())
        return True
    except (OSError, ValueError):
        return False


def resume_point(training_args):
    """--resume_from_checkpoint may name a run folder: take its newest complete checkpoint-N (a run killed while
    saving leaves a newer, partial one: skipped, with a warning). A partial checkpoint named directly is refused."""
    from transformers.trainer_utils import get_last_checkpoint, sort_checkpoints
    r = training_args.resume_from_checkpoint
    if not r:
        return r
    if not os.path.isdir(r):
        raise UserError(f"--resume_from_checkpoint {r} is not a folder; give a run's output_dir or its checkpoint-N")
    if Path(r).name.startswith("checkpoint-"):
        if not complete_checkpoint(r):
            raise UserError(f"--resume_from_checkpoint {r} is incomplete (no readable trainer_state.json: the run was "
                            "killed while saving it); give the run folder to take its newest complete checkpoint")
        return r
    newest = get_last_checkpoint(r)
    if newest is None:
        raise UserError(f"--resume_from_checkpoint {r} holds no checkpoint-N folder; drop the flag to start afresh")
    for p in reversed(sort_checkpoints(r)):  # newest first; the Trainer's own ordering by step
        if complete_checkpoint(p):
            if Path(p) != Path(newest):
                log.warning("%s is incomplete (killed while saving): resuming from %s", newest, p)
            return str(p)
    raise UserError(f"every checkpoint in {r} is incomplete; drop --resume_from_checkpoint to start afresh")


def pad_multiple(model_args, training_args) -> int | None:
    """Round padded lengths up to a multiple of 8 where tensor cores want it (bf16/fp16 on a GPU)."""
    import torch
    if model_args.pad_to_multiple_of is not None:
        return model_args.pad_to_multiple_of if model_args.pad_to_multiple_of > 1 else None
    return 8 if (training_args.bf16 or training_args.fp16) and torch.cuda.is_available() else None


def collator(tokenizer, model_args, training_args):
    """Dynamic padding: each batch is padded to its longest sequence, not to max_seq_length."""
    from transformers import DataCollatorWithPadding
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_multiple(model_args, training_args))


def tokens_per_second(train_metrics: dict, dataset) -> float:
    """Real (unpadded) training tokens/s: the Trainer's samples/s x the mean sequence length, counted in Arrow."""
    import pyarrow.compute as pc
    mean = pc.mean(pc.list_value_length(dataset.with_format("arrow")["input_ids"])).as_py() or 0.0
    return round(train_metrics["train_samples_per_second"] * mean, 1)


def fp32_precision_state() -> dict:
    """How fp32 matmuls/convolutions run (ieee, tf32, ...), read through the API that set them; never raises.

    torch >= 2.9 has per-backend `fp32_precision` settings, and transformers' --tf32 sets them. Once the new
    API is used, the legacy getters (torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32)
    raise "mix of the legacy and new APIs": on every Ampere-or-newer GPU that crashed the run after training.
    """
    import torch
    b = torch.backends
    names = {"generic": b, "cuda_matmul": getattr(getattr(b, "cuda", None), "matmul", None),
             "cudnn": getattr(b, "cudnn", None), "cudnn_conv": getattr(getattr(b, "cudnn", None), "conv", None),
             "mkldnn": getattr(b, "mkldnn", None)}
    if hasattr(b, "fp32_precision"):  # the new API: read it, never the legacy getters
        state = {}
        for k, obj in names.items():
            try:
                v = getattr(obj, "fp32_precision", None)
            except Exception as e:  # a backend that cannot say: record why, do not fail the run
                v = f"unreadable ({type(e).__name__})"
            if v is not None:
                state[k] = v
        return {"api": "torch.backends.*.fp32_precision", **state}
    try:  # torch < 2.9: only the legacy API exists
        return {"api": "legacy", "float32_matmul_precision": torch.get_float32_matmul_precision(),
                "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32}
    except Exception as e:
        return {"api": "legacy", "error": f"{type(e).__name__}: {e}".splitlines()[0][:200]}


def runtime_record(model_args, training_args, model=None) -> dict:
    """What the run actually used, for the results JSON."""
    a = training_args
    attn = getattr(getattr(model, "config", None), "_attn_implementation", model_args.attn_implementation)
    import torch
    trained = "bf16" if a.bf16 else "fp16" if a.fp16 else "fp32"
    rec = {"precision": trained,
           "prediction_precision": "bf16 autocast, fp32 weights" if model_args.prediction_precision == "bf16" else
                                   trained if a.device.type != "cpu" else "fp32",  # BertkitTrainer: fp32 on a CPU
           "autocast": None if trained == "fp32" else "BertkitTrainer" if a.device.type == "cpu" else "accelerate",
           "cpu_native_bf16": None if torch.cuda.is_available() else cpu_native_bf16(),
           "tf32": a.tf32, "fp32_precision": fp32_precision_state(),
           "optim": getattr(a.optim, "value", str(a.optim)), "attn_implementation": attn,
           "train_attn_implementation": (model_args.train_attn_implementation or attn) if a.do_train else None,
           "pad_to_multiple_of": pad_multiple(model_args, a), "train_sampling_strategy": a.train_sampling_strategy,
           "dataloader_num_workers": a.dataloader_num_workers, "dataloader_pin_memory": a.dataloader_pin_memory,
           "torch_compile": a.torch_compile, "torch_compile_mode": a.torch_compile_mode,
           "torch_compile_fallback": COMPILE_FALLBACK.get("reason"),
           "attention_dropout": next((getattr(model.config, k) for k in ATTENTION_DROPOUT_KEYS
                                      if hasattr(getattr(model, "config", None), k)), None),
           "ddp_find_unused_parameters": a.ddp_find_unused_parameters,
           "world_size": a.world_size, "distributed_type": str(a.distributed_state.distributed_type).split(".")[-1],
           "per_device_train_batch_size": a.per_device_train_batch_size,
           "gradient_accumulation_steps": a.gradient_accumulation_steps,
           "global_train_batch_size": a.per_device_train_batch_size * a.gradient_accumulation_steps * a.world_size,
           "device": str(a.device), "device_requested": model_args.device, "mps_available": mps_available()}
    if os.environ.get("BERTKIT_LAUNCH"):  # set by scripts/*_full.sh: the accelerate launch part of the command
        rec["launch"] = os.environ["BERTKIT_LAUNCH"]
    return rec



def step_clock():
    """A TrainerCallback: the seconds since training began at each logged step (`seconds[step]`), so the loss log
    says how fast the run went at each point (the steady rate after a compile, a slowdown) and not only on average."""
    import time
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.t0, self.seconds = None, {}

        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kw):
            if self.t0 is not None and logs and "loss" in logs:
                self.seconds[state.global_step] = round(time.perf_counter() - self.t0, 2)

    return StepClock()


def interrupt_callback():
    """A TrainerCallback: Ctrl-C (SIGINT) during training stops at the end of the current step, never inside a
    checkpoint save, so the newest checkpoint stays usable; a second Ctrl-C stops at once. The stop surfaces as
    KeyboardInterrupt, which the scripts turn into one line and exit status 130 (bertkit.errors)."""
    import signal
    import threading
    from transformers import TrainerCallback

    class StopOnInterrupt(TrainerCallback):
        asked, previous = False, None

        def _handler(self, signum, frame):
            self.asked = True
            signal.signal(signal.SIGINT, self.previous or signal.default_int_handler)  # a second Ctrl-C: at once

        def on_train_begin(self, args, state, control, **kw):
            if threading.current_thread() is threading.main_thread():
                self.previous = signal.signal(signal.SIGINT, self._handler)

        def on_step_end(self, args, state, control, **kw):
            if self.asked:  # before this step's checkpoint is begun: the newest one on disk is complete
                raise KeyboardInterrupt

        def on_train_end(self, args, state, control, **kw):
            if self.previous is not None:
                signal.signal(signal.SIGINT, self.previous)

    return StopOnInterrupt()
