"""Results files: atomic JSON writes and the provenance every result carries."""
from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # bertkit/results/record.py -> the project


def write_text_atomic(path, text: str):
    """Write to a temp file in the same folder, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path, obj, indent=2):
    write_text_atomic(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def write_essentials(output_dir, result: dict) -> Path:
    """`<output_dir>/metrics.json`: what a finished run produced (metrics, data, hyperparameters, timings),
    written before the optional steps, so that a crash or kill in one of them loses nothing measured."""
    path = Path(output_dir) / "metrics.json"
    write_json_atomic(path, result)
    logging.getLogger("bertkit").info("wrote %s", path)
    return path


def git_commit() -> str | None:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_model() -> str | None:
    """This machine's CPU model name as /proc/cpuinfo says it (None where there is none, e.g. macOS)."""
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
    except OSError:
        return None
    return names[0] if names else None


def hardware() -> dict:
    import torch
    hw = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
          "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if cpu_model():  # training times on the same core count differ by CPU kind (docs/results.md)
        hw["cpu_model"] = cpu_model()
    try:
        hw["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    if torch.cuda.is_available():
        hw["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    else:
        hw["gpus"] = []
    return hw


def versions() -> dict:
    import accelerate, datasets, numpy, safetensors, tokenizers, torch, transformers
    return {"python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "accelerate": accelerate.__version__, "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__, "numpy": numpy.__version__}


def command_line() -> str:
    """The command as typed from the project's folder: its interpreter by path (.venv/bin/python), as a new
    terminal runs it (nothing activated there, and maybe no `python`)."""
    exe = Path(sys.executable).absolute()
    shown = exe.relative_to(REPO) if exe.is_relative_to(REPO) else exe
    return " ".join(shlex.quote(str(a)) for a in [shown, *sys.argv])


class OptionalSteps:
    """Runs the steps a finished run can do without (provenance, runtime record, demo, tables).

    A failure in one becomes one warning line and an entry under "warnings" in the results JSON, never an
    exit: hours of training, its model, predictions and metrics must not be lost to a bookkeeping step.
        optional = OptionalSteps(log)
        rec = optional("runtime record", runtime_record, model_args, training_args, default=None)
    """

    def __init__(self, logger=None):
        self.log = logger or logging.getLogger("bertkit")
        self.warnings: list[str] = []

    def __call__(self, what, fn, *args, default=None, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # any failure: this step is optional by definition
            first = (str(e).strip().splitlines() or [""])[0][:300]
            msg = f"{what} failed: {type(e).__name__}: {first}"
            self.log.warning("%s (recorded under 'warnings'; the run's model, predictions and metrics are kept)", msg)
            self.warnings.append(msg)
            return default


def provenance(optional: OptionalSteps | None = None) -> dict:
    """Command, hardware, library versions, git commit and time: each part optional (a failure is a warning)."""
    optional = optional or OptionalSteps()
    launcher = os.environ.get("BERTKIT_LAUNCHER")  # set by scripts/*.sh: the command the user typed
    return {"command": command_line(), **({"launched_by": launcher} if launcher else {}),
            "hardware": optional("provenance: hardware", hardware), "versions": optional("provenance: versions", versions),
            "git_commit": optional("provenance: git commit", git_commit),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def relpath(p) -> str:
    """Repo-relative where possible, so committed results point at committed files."""
    p = Path(p).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(p)
