"""Interrupted training, as processes: Ctrl-C stops within seconds (one line, exit 130, the last checkpoint
usable); SIGKILL mid-training and the same command with --resume_from_checkpoint ends with the metrics of an
uninterrupted run; a checkpoint cut short by the kill is skipped when resuming."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO


def cmd(tiny_model_dir, dev_file, out, *extra):
    return [str(a) for a in [sys.executable, "run_squad.py", "--model_name_or_path", tiny_model_dir, "--protocol", "dev-split",
            "--validation_file", dev_file, "--max_train_samples", 120, "--max_eval_samples", 16,
            "--max_seq_length", 128, "--doc_stride", 32, "--per_device_train_batch_size", 4, "--num_train_epochs", 2,
            "--learning_rate", 1e-3, "--save_strategy", "steps", "--save_steps", 10, "--logging_steps", 5,
            "--report_to", "none", "--seed", 5, "--do_train", "--output_dir", out, "--results_file", f"{out}.json",
            "--disable_tqdm", "true", *extra]]


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def start(args, cache):
    return subprocess.Popen(args, cwd=REPO, env={**ENV, "HF_DATASETS_CACHE": str(cache)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(out: Path, proc, n=1, timeout=300):
    """Until `n` complete checkpoints exist (trainer_state.json written: the Trainer writes it last)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        done = [p for p in out.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
        if len(done) >= n:
            return done
        if proc.poll() is not None:
            raise AssertionError(f"finished before a checkpoint: {proc.stderr.read()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError("no checkpoint in time")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model_dir, dev_file):
    d = tmp_path_factory.mktemp("uninterrupted")
    p = subprocess.run(cmd(tiny_model_dir, dev_file, d / "ft", "--do_eval"), cwd=REPO, capture_output=True, text=True,
                       env={**ENV, "HF_DATASETS_CACHE": str(d / "cache")})
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads((d / "ft.json").read_text())


def test_ctrl_c_stops_in_seconds_with_one_line_and_a_usable_checkpoint(tmp_path, tiny_model_dir, dev_file):
    out = tmp_path / "ft"
    proc = start(cmd(tiny_model_dir, dev_file, out), tmp_path / "cache")
    wait_for_checkpoint(out, proc)
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert time.time() - t0 < 10 and "Traceback" not in err, err[-3000:]
    last = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert last.startswith("interrupted (Ctrl-C)") and "--resume_from_checkpoint" in last
    assert not Path(f"{out}.json").exists()
    ckpts = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert all((c / "trainer_state.json").is_file() and (c / "model.safetensors").is_file() for c in ckpts)
    from transformers import AutoModelForQuestionAnswering
    AutoModelForQuestionAnswering.from_pretrained(ckpts[-1])  # usable


def test_sigkill_then_resume_gives_the_uninterrupted_metrics(tmp_path, tiny_model_dir, dev_file, uninterrupted):
    out = tmp_path / "ft"
    proc = start(cmd(tiny_model_dir, dev_file, out, "--do_eval"), tmp_path / "cache")
    done = wait_for_checkpoint(out, proc)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and not Path(f"{out}.json").exists()
    # what a kill in the middle of a save leaves: a newer checkpoint without its trainer_state.json
    newest = max(done, key=lambda p: int(p.name.split("-")[1]))
    partial = out / f"checkpoint-{int(newest.name.split('-')[1]) + 10}"
    if not partial.exists():
        shutil.copytree(newest, partial)
        (partial / "trainer_state.json").unlink()
        (partial / "model.safetensors").write_bytes(b"cut")
    p = subprocess.run(cmd(tiny_model_dir, dev_file, out, "--do_eval", "--resume_from_checkpoint", out), cwd=REPO,
                       env={**ENV, "HF_DATASETS_CACHE": str(tmp_path / "cache")}, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "is incomplete (killed while saving)" in p.stderr
    r = json.loads(Path(f"{out}.json").read_text())
    assert r["timing"]["resumed_from_checkpoint"] != str(partial)
    assert r["metrics"] == pytest.approx(uninterrupted["metrics"], abs=1e-9)
    same = lambda e: {"step": e["step"], "loss": e["loss"]}  # noqa: E731 (not its seconds: a clock, per run)
    assert same(r["loss_log"][-1]) == pytest.approx(same(uninterrupted["loss_log"][-1]))
