"""What a newcomer's first run costs on disk and in time, measured on a clone where the main job ran.

    .venv/bin/python benchmarks/footprint.py --clone /tmp/fresh/project --log /tmp/fresh/fresh_clone.log

The clone: `git clone` of this project with no ../shared beside it, then `bash scripts/finetune_subset.sh` in a
new terminal's environment, its output (and the wrapper's `## exit <rc>; wall <s> s` line) in --log. Writes
results/benchmarks/footprint_<time>.json: the sizes of .venv (and its torch build), of the data fetched, of the
run's folders and files, and the job's wall time with the run's own timings, for the README's "Before you start".
"""
import argparse
import datetime
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bertkit.data.files import sha256_file  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402


def disk(path: Path) -> dict:
    """Bytes of the files under path (symlinks not followed) and bytes the disk holds for them."""
    size = used = files = 0
    for root, _, names in os.walk(path):
        for n in names:
            st = os.lstat(os.path.join(root, n))
            size, used, files = size + st.st_size, used + st.st_blocks * 512, files + 1
    return {"bytes": size, "disk_bytes": used, "files": files, "mib": round(used / 2**20, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clone", required=True, help="the clone the job ran in")
    p.add_argument("--log", required=True, help="the job's output, with the wrapper's '## exit <rc>; wall <s> s' line")
    p.add_argument("--run", default=None, help="the run's name (default: the newest squad_subset_*.json there)")
    p.add_argument("--output", default=None)
    a = p.parse_args()
    clone, log = Path(a.clone), Path(a.log)
    if not (clone / ".venv").is_dir() or not log.is_file():
        raise UserError(f"--clone {clone} has no .venv or --log {log} is missing; run the job there first")
    text = log.read_text(errors="replace")
    wall = re.search(r"^## exit (\d+); wall (\d+) s$", text, re.M)
    if not wall or wall.group(1) != "0":
        raise UserError(f"{log} has no '## exit 0; wall <s> s' line: the job did not finish there")
    runs = sorted((clone / "results").glob("squad_subset_*[0-9].json"), key=lambda q: q.stat().st_mtime)
    run = clone / "results" / f"{a.run}.json" if a.run else (runs[-1] if runs else None)
    if run is None or not run.is_file():
        raise UserError(f"no squad_subset_*.json in {clone / 'results'}; pass --run <name>")
    r = json.loads(run.read_text())
    folder, base = run.with_suffix(""), Path(f"{run.with_suffix('')}_baseline")
    torch = sorted(p.name for p in (clone / ".venv").glob("lib/python*/site-packages/torch-*.dist-info"))
    ckpts = sorted(folder.glob("checkpoint-*"))
    out = {
        **provenance(), "benchmark": "footprint", "clone": str(clone), "clone_commit": r.get("git_commit"),
        "log": {"path": str(log), "sha256": sha256_file(log)},
        "job": {"wall_seconds": int(wall.group(2)), "run": run.stem, "launched_by": r.get("launched_by"),
                "timing": r.get("timing"), "precision": (r.get("runtime") or {}).get("precision"),
                "cpu_native_bf16": (r.get("runtime") or {}).get("cpu_native_bf16"),
                "device": (r.get("runtime") or {}).get("device"), "cpu_model": (r.get("hardware") or {}).get("cpu_model")},
        "disk": {"venv": {**disk(clone / ".venv"), "torch": torch},
                 "data": {str(q.relative_to(clone / "data")): q.stat().st_size for q in sorted((clone / "data").rglob("*"))
                          if q.is_file()} if (clone / "data").is_dir() else {},
                 "run_folder": disk(folder), "model_safetensors_bytes": (folder / "model.safetensors").stat().st_size,
                 "checkpoints": {c.name: disk(c) for c in ckpts}, "baseline_folder": disk(base) if base.is_dir() else None},
    }
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    dest = Path(a.output) if a.output else REPO / "results" / "benchmarks" / f"footprint_{stamp}.json"
    if dest.exists():
        raise UserError(f"{dest} exists; results are never overwritten (pass --output)")
    write_json_atomic(dest, out)
    print(f"wrote {dest}: .venv {out['disk']['venv']['mib']} MiB, run folder {out['disk']['run_folder']['mib']} MiB, "
          f"job {out['job']['wall_seconds']} s")


if __name__ == "__main__":
    sys.exit(exit_on_user_error(main))
