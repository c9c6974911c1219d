"""Many processes give the one-process answers: `accelerate launch` over 2 CPU processes (gloo) with a tiny BERT.

What each test pins down, for SQuAD and IMDB alike: after gathering, evaluation covers every question once
(the predictions equal a one-process run's on the same model, question for question); only one results
file and one set of predictions appear; preprocessing runs in the main process first and the other one
reads its cache; the full-run scripts print their command and refuse to run without a GPU unless ALLOW_CPU=1;
and the launches that only look distributed are refused instead of running the job twice.
"""
import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

CPU_CONFIG = "scripts/accelerate/cpu_2proc.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra):
    e = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **{k: str(v) for k, v in extra.items()}}
    e.pop("ACCELERATE_USE_CPU", None)
    e.pop("WORLD_SIZE", None)
    return e


def check(p, what):
    if p.returncode != 0:
        raise AssertionError(f"{what} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p


def python(script, *args, **extra):
    p = subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env(**extra), capture_output=True, text=True)
    return check(p, script)


def launch2(script, *args, **extra):
    """Two CPU processes: the torchrun launcher of MULTI_GPU + ACCELERATE_USE_CPU (accelerate's --cpu flag starts one)."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", CPU_CONFIG, "--num_processes", "2",
           "--main_process_port", str(free_port()), script, *map(str, args)]
    p = subprocess.run(cmd, cwd=REPO, env=env(ACCELERATE_USE_CPU="true", **extra), capture_output=True, text=True)
    return check(p, "accelerate launch " + script)


def full_script(name, **knobs):
    e = env(ACCELERATE_CONFIG=CPU_CONFIG, MAIN_PROCESS_PORT=free_port(), WORKERS=0, LOGGING_STEPS=1, **knobs)
    return subprocess.run(["bash", f"scripts/{name}"], cwd=REPO, env=e, capture_output=True, text=True)


def read(path):
    return json.loads(Path(path).read_text())


SQUAD_DATA = ["--protocol", "dev-split", "--max_eval_samples", 37, "--max_seq_length", 128, "--doc_stride", 32,
              "--report_to", "none", "--seed", 3]


@pytest.fixture(scope="module")
def squad_full_run(tmp_path_factory, tiny_model_dir, dev_file):
    """scripts/finetune_full.sh on 2 CPU processes: baseline, fine-tune, evaluate (fresh datasets cache)."""
    d = tmp_path_factory.mktemp("squad2p")
    p = full_script("finetune_full.sh", ALLOW_CPU=1, MODEL=tiny_model_dir, DATASET="dev-split",
                    DATA_DIR=Path(dev_file).parents[1], MAX_TRAIN_SAMPLES=40, MAX_EVAL_SAMPLES=37, MAX_SEQ_LENGTH=128,
                    DOC_STRIDE=32, GLOBAL_BATCH=8, EVAL_BATCH=8, EPOCHS=1, LR="1e-3", SEED=3, CALIBRATION_SAMPLES=30,
                    OUTPUT_DIR=d / "ft", HF_DATASETS_CACHE=d / "cache")
    check(p, "finetune_full.sh")
    return d, p.stdout + p.stderr


def test_full_script_prints_its_command_and_records_the_launch(squad_full_run):
    d, log = squad_full_run
    assert f"+ accelerate launch --config_file {CPU_CONFIG} --num_processes 2" in log
    assert "run_baseline.py" in log and "run_squad.py" in log and "--learning_rate 1e-3" in log
    r = read(d / "ft.json")
    rt = r["runtime"]
    assert (rt["world_size"], rt["distributed_type"], rt["global_train_batch_size"]) == (2, "MULTI_CPU", 8)
    assert rt["launch"].startswith("accelerate launch --config_file " + CPU_CONFIG)
    # --precision auto on a CPU: bf16 training where the CPU has it in hardware (CI's may or may not), else fp32
    assert rt["precision"] == ("bf16" if rt["cpu_native_bf16"] else "fp32") and rt["prediction_precision"] == "fp32"
    assert rt["attn_implementation"] == "sdpa" and rt["train_sampling_strategy"] == "group_by_length"
    assert r["launched_by"] == "bash scripts/finetune_full.sh"
    assert r["data"]["train"]["n_examples"] == 40 and r["metrics"]["total"] == 37 == len(read(d / "ft" / "predictions.json"))
    assert r["baseline_metrics"] is not None and r["loss_log"]


def test_preprocessing_runs_once_main_process_first(squad_full_run):
    d, log = squad_full_run
    # the baseline run tokenised the eval questions; the training run found them cached and tokenised training
    assert "process 0: eval windows computed" in log and "process 1: eval windows read from the datasets cache" in log
    assert "process 0: eval windows read from the datasets cache, train windows computed" in log
    assert "process 1: eval windows read from the datasets cache, train windows read from the datasets cache" in log
    assert read(d / "ft.json")["data"]["train"]["features_from_cache"] is False  # rank 0 reports its own work


def test_two_process_squad_eval_equals_one_process(squad_full_run, tiny_model_dir, dev_file):
    """The fine-tuned model scored by 1 process: same answers, odds and metrics as the 2-process run."""
    d, _ = squad_full_run
    # the fine-tuned model: at the threshold the 2-process run calibrated and saved with it (auto reads it)
    for model, out, thr in ((d / "ft", d / "one", "auto"), (tiny_model_dir, d / "one_base", "0.0")):
        python("run_squad.py", "--model_name_or_path", model, "--validation_file", dev_file, *SQUAD_DATA, "--do_eval",
               "--per_device_eval_batch_size", 8, "--output_dir", out, "--results_file", f"{out}.json",
               "--null_score_diff_threshold", thr)
    two = read(d / "ft.json")["null_threshold"]
    assert two["method"] == "calibrated" and two["calibration"]["n_questions"] >= 30  # whole articles
    assert read(d / "one.json")["null_threshold"] == {**read(d / "ft" / "qa_threshold.json"), "method": "saved",
                                                      "file": "qa_threshold.json"}
    for two, one in ((d / "ft", d / "one"), (d / "ft_baseline", d / "one_base")):
        assert read(two / "predictions.json") == read(one / "predictions.json")
        assert read(two / "nonnull_predictions.json") == read(one / "nonnull_predictions.json")
        odds2, odds1 = read(two / "null_odds.json"), read(one / "null_odds.json")
        assert odds2.keys() == odds1.keys() and max(abs(odds2[k] - odds1[k]) for k in odds1) < 1e-4
        m2, m1 = read(f"{two}.json")["metrics"], read(f"{one}.json")["metrics"]
        assert m2 == pytest.approx(m1, abs=1e-9)
    assert read(d / "one.json")["runtime"]["world_size"] == 1


def test_only_the_main_process_writes(squad_full_run):
    d, log = squad_full_run
    assert log.count(f"wrote {d / 'ft.json'}") == 1 and log.count(f"wrote {d / 'ft_baseline.json'}") == 1
    written = sorted(p.name for p in d.iterdir() if p.name.startswith("ft"))
    assert written == ["ft", "ft.json", "ft_baseline", "ft_baseline.json"]
    assert not list(d.rglob(".*.tmp"))  # no half-written atomic writes left by a second writer
    assert (d / "ft" / "model.safetensors").is_file() and not (d / "ft" / "training_args.bin").exists()


def test_imdb_two_processes_equal_one(tmp_path, tiny_model_dir, imdb_dir):
    """scripts/imdb_full.sh on 2 processes (epochs with best-on-validation), then 1 process on the saved model."""
    data = imdb_dir.parent
    p = full_script("imdb_full.sh", ALLOW_CPU=1, MODEL=tiny_model_dir, DATA_DIR=data, MAX_TRAIN_SAMPLES=32,
                    MAX_EVAL_SAMPLES=16, MAX_PREDICT_SAMPLES=41, VALIDATION_SIZE=100, MAX_SEQ_LENGTH=64, EPOCHS=2,
                    GLOBAL_BATCH=8, EVAL_BATCH=8, LR="1e-3", OUTPUT_DIR=tmp_path / "two")
    check(p, "imdb_full.sh")
    assert f"+ accelerate launch --config_file {CPU_CONFIG} --num_processes 2" in p.stdout and " run_imdb.py " in p.stdout
    two = read(tmp_path / "two.json")
    assert two["runtime"]["world_size"] == 2 and two["hyperparameters"]["load_best_model_at_end"] is True
    assert [v["epoch"] for v in two["validation_log"]] == [1.0, 2.0] and "checkpoint-" in two["best_checkpoint"]
    python("run_imdb.py", "--model_name_or_path", tmp_path / "two", "--train_file", data / "imdb" / "train.csv.gz",
           "--test_file", data / "imdb" / "test.csv.gz", "--max_predict_samples", 41, "--validation_size", 100,
           "--max_seq_length", 64, "--do_predict", "--per_device_eval_batch_size", 8, "--report_to", "none",
           "--seed", 42, "--output_dir", tmp_path / "one", "--results_file", tmp_path / "one.json")
    rows = lambda d: list(csv.reader(open(d / "test_predictions.csv")))  # noqa: E731
    assert len(rows(tmp_path / "two")) == 42 and rows(tmp_path / "two") == rows(tmp_path / "one")
    assert two["metrics"] == read(tmp_path / "one.json")["baseline_metrics"]  # one's "before" is two's "after"


def test_full_scripts_refuse_without_gpu(tmp_path):
    for name in ("finetune_full.sh", "imdb_full.sh"):
        p = full_script(name, OUTPUT_DIR=tmp_path / name)
        assert p.returncode == 1 and "no GPU visible" in p.stderr and "ALLOW_CPU=1" in p.stderr
    assert not any(tmp_path.iterdir())


def test_launches_that_only_look_distributed_are_refused(tmp_path, tiny_model_dir, dev_file):
    args = ["run_squad.py", "--model_name_or_path", tiny_model_dir, "--validation_file", dev_file, *map(str, SQUAD_DATA),
            "--do_eval", "--output_dir", str(tmp_path / "x"), "--results_file", str(tmp_path / "x.json")]
    port = ["--main_process_port", str(free_port())]
    acc = [sys.executable, "-m", "accelerate.commands.launch", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no"]
    # accelerate's --cpu starts one process for --num_processes 2; --multi_gpu without GPUs starts two lone ones
    for cmd, e, says in ((acc + ["--cpu", "--num_processes", "2", *port, *args], env(), "starts one process, not N"),
                         (acc + ["--multi_gpu", "--num_processes", "2", *port, *args], env(), "ACCELERATE_USE_CPU=true")):
        p = subprocess.run(cmd, cwd=REPO, env=e, capture_output=True, text=True)
        assert p.returncode != 0 and says in p.stderr, p.stderr[-2000:]
    assert not any(tmp_path.iterdir())


def test_throughput_benchmark_writes_its_json(tmp_path, tiny_model_dir, dev_file):
    """benchmarks/throughput.py runs (a tiny architecture, 2 steps) and records speed, padding and provenance."""
    out = tmp_path / "bench.json"
    python("benchmarks/throughput.py", "--model", tiny_model_dir, "--tokenizer", tiny_model_dir, "--max_questions", 40, "--batch_size", 4,
           "--steps", 2, "--warmup", 1, "--max_seq_length", 128, "--doc_stride", 32, "--sampling", "group_by_length",
           "--data_dir", Path(dev_file).parents[1], "--output", out)
    r = read(out)
    res = r["results"]
    assert res["samples_per_second"] > 0 and res["tokens_per_second"] <= res["padded_tokens_per_second"]
    assert 0 <= res["epoch_padding_fraction"] < 1 and res["mfu"] is None  # no known peak for a CPU
    assert r["data"]["sha256"].startswith("c64fe26c") and r["settings"]["sampling"] == "group_by_length"
    assert r["data"]["tokenizer"] == tiny_model_dir  # --tokenizer
    assert all(k in r for k in ("command", "hardware", "versions", "git_commit"))
    # steady state: one untimed step per padded shape first; the per-step spread reported
    assert res["steps"] == 2 and res["warmup_shapes"] >= 1 and res["step_ms"]["p10"] <= res["step_ms"]["max"]
    # the Hugging Face defaults in the same run: fp32, every window padded to max_seq_length, random order
    hf = r["runs"]["hf_defaults"]
    assert hf["settings"]["sampling"] == "random" and hf["results"]["mean_padded_length"] == 128
    assert hf["results"]["warmup_shapes"] == 1 and hf["results"]["padding_fraction"] > res["padding_fraction"]
    assert r["speedup_vs_hf_defaults"]["tokens_per_second"] == pytest.approx(
        res["tokens_per_second"] / hf["results"]["tokens_per_second"], rel=1e-2)
    p = subprocess.run([sys.executable, "benchmarks/throughput.py", "--model", tiny_model_dir, "--output", str(out)],
                       cwd=REPO, env=env(), capture_output=True, text=True)
    assert p.returncode == 2 and "exists" in p.stderr  # never overwritten
    p = subprocess.run([sys.executable, "benchmarks/throughput.py", "--tokenizer", str(tmp_path), "--output",
                        str(tmp_path / "x.json")], cwd=REPO, env=env(), capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith(f"error: --tokenizer {tmp_path}: no tokenizer")
