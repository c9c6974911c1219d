"""scripts/gpu_check.sh: its dry mode (the GPU check's wiring on this CPU, tiny bf16 model, tiny sizes) as a
process, and the judge's thresholds on the dry run's real files."""
import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bertkit.tools import gpu_check as G
from conftest import REPO


@pytest.fixture(scope="module")
def dry(tmp_path_factory, dev_file, imdb_dir):
    d = tmp_path_factory.mktemp("gpu_check")
    env = {**os.environ, "DRY": "1", "RESULTS": str(d), "RUN_NAME": "dry", "DATA_DIR": str(imdb_dir.parent),
           "HF_DATASETS_CACHE": str(d / "cache")}
    p = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    return d, p


def test_dry_run_passes_and_writes_one_summary(dry):
    d, p = dry
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads((d / "dry.json").read_text())
    assert r["task"] == "gpu_check" and r["mode"] == "dry" and r["passed"] is True and r["n_failed"] == 0
    assert set(r["figures"]["steps"]) == {"env", "squad", "imdb", "throughput"}
    assert all(s["exit_code"] == 0 for s in r["figures"]["steps"].values())
    names = [c["check"] for c in r["checks"]]
    for needed in ("squad: span F1 (nonnull_HasAns_f1)", 'squad: demo answers "Beijing"', "imdb: test accuracy",
                   "throughput: ours vs Hugging Face defaults, tokens/s", "env: TF32 state readable after --tf32",
                   "squad: trained in float32 (master weights)"):
        assert needed in names
    # the tiny model is stored in bf16, as the GPU kit's MiniLM: it must have been trained in float32
    fp32 = next(c for c in r["checks"] if c["check"] == "squad: trained in float32 (master weights)")
    assert fp32["value"] == ["bfloat16", "float32"] and fp32["passed"] and fp32["judged"]
    quality = [c for c in r["checks"] if not c["judged"]]
    assert len(quality) == 8  # reported, not judged, on a CPU with a random tiny model
    assert r["settings"]["DRY"] == "1" and r["launched_by"] == "bash scripts/gpu_check.sh" and r["git_commit"]
    assert "PASSED" in p.stdout and f"wrote {d / 'dry.json'}" in p.stdout


def test_judge_applies_the_gpu_thresholds(dry, tmp_path):
    d, _ = dry
    run = tmp_path / "run"
    shutil.copytree(d / "dry", run, ignore=shutil.ignore_patterns("squad", "imdb", "tiny_bf16", "squad_baseline"))
    verdict = lambda r: {c["check"]: c["passed"] for c in r["checks"]}  # noqa: E731
    r = G.judge(run, dry=False)  # a random tiny model on a CPU fails a GPU machine's checks
    assert r["passed"] is False and not verdict(r)["env: CUDA GPU visible"] and not verdict(r)["imdb: test accuracy"]

    squad = json.loads((run / "squad.json").read_text())
    good = copy.deepcopy(squad)
    m = good["metrics"]
    m.update(total=1000, NoAns_total=494, nonnull_HasAns_f1=67.28, best_f1=54.40)  # the H100 figures (no answer: 49.4)
    good["demo"]["answer"] = "Beijing"
    (run / "squad.json").write_text(json.dumps(good))
    v = verdict(G.judge(run, dry=False))
    assert v["squad: span F1 (nonnull_HasAns_f1)"] and v['squad: best F1 over "no answer" F1'] and v['squad: demo answers "Beijing"']
    m.update(best_f1=52.0, nonnull_HasAns_f1=59.9)  # 2.6 over "no answer", span F1 under 60
    good["demo"]["answer"] = ""
    (run / "squad.json").write_text(json.dumps(good))
    v = verdict(G.judge(run, dry=False))
    assert not v["squad: span F1 (nonnull_HasAns_f1)"] and not v['squad: best F1 over "no answer" F1']
    assert not v['squad: demo answers "Beijing"']

    (run / "imdb.json").unlink()  # a step that wrote nothing fails its check, and the judge still reports the rest
    with open(run / "steps.tsv", "a") as f:
        f.write("imdb\t1\t3\n")
    (run / "imdb.log").write_text("Traceback ...\nRuntimeError: boom\n")
    r = G.judge(run, dry=True)
    assert r["passed"] is False and not verdict(r)["imdb: results written"]
    assert r["figures"]["steps"]["imdb"]["log_tail"][-1] == "RuntimeError: boom"


def test_refuses_to_overwrite_and_names_missing_data(dry, tmp_path, dev_file):
    d, _ = dry
    env = {**os.environ, "DRY": "1", "RESULTS": str(d), "RUN_NAME": "dry", "DATA_DIR": str(Path(dev_file).parents[1])}
    before = (d / "dry.json").read_bytes()
    p = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "exists" in p.stderr and (d / "dry.json").read_bytes() == before
    env.update(RUN_NAME="other", DATA_DIR=str(tmp_path))
    p = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and "dev-v2.0.json.gz not found" in p.stderr
    assert not (d / "other").exists()


def _wheel(folder: Path, name="bertkit_probe", version="1.0") -> Path:
    """A minimal pure-Python wheel (module + dist-info), built here: what WHEELS= installs."""
    import zipfile
    whl = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{name}.py": "VALUE = 42\n", f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{k},,\n" for k in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(whl, "w") as z:
        for k, v in files.items():
            z.writestr(k, v)
    return whl


def test_an_existing_environment_is_used_as_is_with_wheels_for_what_it_lacks(tmp_path):
    """VENV=system (a GPU image's python3) + WHEELS: nothing created or downloaded; a missing package is one line."""
    import sys
    _wheel(tmp_path)
    env = {**os.environ, "VENV": "system", "PYTHON": sys.executable, "WHEELS": str(tmp_path)}
    probe = 'source scripts/setup_env.sh && python -c "import bertkit_probe, sys; print(bertkit_probe.VALUE, sys.executable)"'
    p = subprocess.run(["bash", "-c", probe], cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split()[-2:] == ["42", sys.executable] and "--no-index --no-deps" in p.stdout
    # a python without the project's packages: one error line naming them
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    p = subprocess.run(["bash", "-c", "source scripts/setup_env.sh"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "VENV": str(bare)})
    assert p.returncode == 2 and p.stderr.strip().startswith("error: the Python environment") and "lacks: torch" in p.stderr
    assert not (bare / ".requirements.sha256").exists()  # the user's environment was not installed into
    p = subprocess.run(["bash", "-c", "source scripts/setup_env.sh"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "VENV": str(tmp_path / "nope")})
    assert p.returncode == 2 and "is not a virtual environment" in p.stderr and len(p.stderr.strip().splitlines()) == 1
