"""What a run uses (model, data, device, precision, recipe), in one short block before the work starts."""
from __future__ import annotations

import sys


def run_banner(model: str, data: str, device: str, precision: str, stream=None, **more) -> str:
    """One short block saying what the run uses, printed before the work starts; returns the text."""
    rows = {k: v for k, v in {"model": model, "data": data, "device": device, "precision": precision, **more}.items()
            if v is not None}
    width = max(len(k) for k in rows)
    text = "\n".join(["== run " + "=" * 60, *(f"{k:<{width}}  {v}" for k, v in rows.items()), "=" * 67])
    s = stream or sys.stdout
    s.write(text + "\n")
    s.flush()
    return text


def run_banner_for(training_args, model_info: dict, model_path, data: str, **more) -> str | None:
    """run_banner from what every run script has (its model's provenance, its resolved TrainingArguments);
    one process per machine prints it, the others return None."""
    if training_args.local_process_index != 0:
        return None
    a = training_args
    n = model_info.get("n_parameters")
    device, precision = device_and_precision(a)
    length = f"{a.max_steps} steps" if (getattr(a, "max_steps", 0) or 0) > 0 else f"{a.num_train_epochs:g} epochs"
    recipe = (f"{length}, batch {a.per_device_train_batch_size} x {a.gradient_accumulation_steps} "
              f"accumulation x {a.world_size} processes, lr {a.learning_rate:g}") if a.do_train else "no training"
    return run_banner(model=str(model_info.get("package") or model_path) + (f" ({n / 1e6:.1f}M parameters)" if n else ""),
                      data=data, device=device, precision=precision, recipe=recipe, **more)


def training_levers(model_args, training_args) -> str | None:
    """The speed knobs a training run uses, in words (the banner's "speed" row), or None without training."""
    if not training_args.do_train:
        return None
    p, kernel = model_args.attention_dropout, model_args.train_attn_implementation or "the model's"
    return ", ".join([f"attention dropout {p:g}" if p is not None else "the model's attention dropout",
                      f"{kernel} attention in training",
                      "torch.compile" if training_args.torch_compile else "no torch.compile"]
                     + ([f"weights averaged over the last {model_args.weight_average_share:g} of the steps"]
                        if getattr(model_args, "weight_average_share", None) else []))


def device_and_precision(training_args) -> tuple[str, str]:
    """What a resolved TrainingArguments will run on, in words (for run_banner)."""
    import torch
    a = training_args
    dev = a.device
    procs = f" x {a.world_size} processes" if a.world_size > 1 else ""
    if dev.type == "cuda":
        device = f"{torch.cuda.get_device_name(dev)} (cuda){procs}"
    else:
        device = f"{dev.type} ({torch.get_num_threads()} threads){procs}"
    precision = "bf16 autocast, fp32 weights" if a.bf16 else "fp16 autocast, fp32 weights" if a.fp16 else "fp32"
    if a.tf32:
        precision += ", TF32 matmuls"
    if dev.type != "cuda" and (a.bf16 or a.fp16):
        precision += " (training; predictions in fp32)"
    return device, precision
