"""Which device a run trains on: a CUDA GPU where there is one, else the CPU; Apple's MPS only when asked.

The Trainer takes MPS on its own on Apple silicon. No recipe here was measured there (they were tuned on CPUs,
and the tests cannot run MPS), so --device auto keeps such a Mac on the CPU, saying so in one line, and
--device mps (DEVICE=mps in the scripts) opts in. The device used is in the results JSON (runtime.device).
"""
from __future__ import annotations

import logging

from ..errors import UserError

log = logging.getLogger(__name__)
CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    import torch
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available() and mps.is_built())


def device_flags(device: str) -> dict:
    """TrainingArguments overrides for --device (none: the Trainer's own choice is the one wanted)."""
    import torch
    if device not in CHOICES:
        raise UserError(f"--device {device!r} is not one of {', '.join(CHOICES)} (DEVICE=... in the scripts)")
    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise UserError("--device cuda, but torch sees no CUDA GPU (torch.cuda.is_available() is False); "
                        "use --device auto or cpu (DEVICE=auto)")
    if device == "mps":
        if not mps_available():
            raise UserError("--device mps, but this torch has no usable Apple MPS (torch.backends.mps.is_available() "
                            "is False); use --device auto or cpu (DEVICE=auto)")
        log.warning("device: Apple's MPS, as asked (--device mps); not yet measured with these recipes: compare "
                    "a run with --device cpu before trusting its time or its numbers")
        return {}
    if device == "cpu" or (device == "auto" and not cuda and mps_available()):
        if device == "auto":
            log.warning("device: the CPU, although Apple's MPS is here: the recipes were measured on CPUs only; "
                        "DEVICE=mps (--device mps) tries MPS, not yet measured")
        return {"use_cpu": True}
    return {}
