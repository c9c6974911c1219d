"""A GPU's state, simulated on this CPU, in real process runs: TF32 set through torch's new API, bf16
checkpoints, and optional steps that fail or are killed after training. CI has no GPU: these are the
states that crashed the first real GPU run (issue 8) although every CPU test passed.

How the state is simulated: a `sitecustomize.py` on PYTHONPATH runs in the child process before the script,
as the GPU's state (or an injected fault) would be there before our code runs.
"""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# What transformers' --tf32 does on an Ampere-or-newer GPU with torch >= 2.9 (transformers.utils.import_utils.enable_tf32).
TF32_STATE = "import torch\ntorch.backends.fp32_precision = 'tf32'\n"


def run(script, *args, site=None, tmp=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    if site is not None:
        d = Path(tmp) / "site"
        d.mkdir(exist_ok=True)
        (d / "sitecustomize.py").write_text(site)
        env["PYTHONPATH"] = os.pathsep.join([str(d), str(REPO)])
    return subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)


def ok(p, what):
    assert p.returncode == 0, f"{what} exited {p.returncode}:\n{p.stderr[-3000:]}"
    return p


def read(p):
    return json.loads(Path(p).read_text())


def stored_dtypes(folder) -> set:
    """dtypes of the tensors in <folder>/model.safetensors, from its header."""
    with open(Path(folder) / "model.safetensors", "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return {v["dtype"] for k, v in header.items() if k != "__metadata__"} - {"I64"}


@pytest.fixture(scope="module")
def bf16_dirs(tmp_path_factory, tokenizer):
    """Tiny QA and classifier checkpoints stored in bf16, their config.json saying "dtype": "bfloat16"."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertForSequenceClassification
    size = dict(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=128, max_position_embeddings=512)
    out = {}
    for name, cls, kw in (("qa", BertForQuestionAnswering, {}),
                          ("cls", BertForSequenceClassification, {"id2label": {0: "negative", 1: "positive"}})):
        torch.manual_seed(0)
        d = tmp_path_factory.mktemp(f"bf16_{name}")
        cls(BertConfig(**size, **kw)).to(torch.bfloat16).save_pretrained(d)
        tokenizer.save_pretrained(d)
        assert read(d / "config.json")["dtype"] == "bfloat16" and stored_dtypes(d) == {"BF16"}
        out[name] = d
    return out


def squad_args(model, dev_file, out, train=True):
    return ["--model_name_or_path", model, "--protocol", "dev-split", "--validation_file", dev_file,
            "--max_eval_samples", 12, "--max_seq_length", 128, "--doc_stride", 32, "--per_device_eval_batch_size", 16,
            "--report_to", "none", "--seed", 3, "--output_dir", out, "--results_file", f"{out}.json",
            *(["--max_train_samples", 16, "--per_device_train_batch_size", 8, "--num_train_epochs", 1,
               "--learning_rate", 1e-3, "--save_strategy", "no"] if train else [])]


def imdb_args(model, out, imdb_dir):
    return ["--model_name_or_path", model, "--train_file", imdb_dir / "train.csv.gz",
            "--test_file", imdb_dir / "test.csv.gz", "--max_train_samples", 16, "--max_eval_samples", 8,
            "--max_predict_samples", 12, "--validation_size", 50, "--max_seq_length", 64, "--do_train", "--do_eval",
            "--do_predict", "--per_device_train_batch_size", 8, "--num_train_epochs", 1, "--learning_rate", 1e-3,
            "--report_to", "none", "--save_strategy", "no", "--seed", 3, "--output_dir", out, "--results_file", f"{out}.json"]


def test_squad_under_gpu_tf32_state_from_a_bf16_checkpoint(tmp_path, bf16_dirs, dev_file):
    """The state that crashed every Ampere+ GPU run, and a bf16 checkpoint: both scripts finish and record it."""
    base = tmp_path / "base"
    ok(run("run_baseline.py", *squad_args(bf16_dirs["qa"], dev_file, base, train=False), site=TF32_STATE, tmp=tmp_path), "run_baseline.py")
    ft = tmp_path / "ft"
    ok(run("run_squad.py", *squad_args(bf16_dirs["qa"], dev_file, ft), "--do_train", "--do_eval",
           "--baseline_results", f"{base}.json", site=TF32_STATE, tmp=tmp_path), "run_squad.py")
    for r in (read(f"{base}.json"), read(f"{ft}.json")):
        assert r["runtime"]["fp32_precision"]["cuda_matmul"] == "tf32" and r["warnings"] == []
        assert r["model"]["checkpoint_dtype"] == "bfloat16" and r["model"]["dtype"] == "float32"
        assert r["metrics"]["total"] == 12 and r["demo"]["question"]
    # fp32 master weights: the fine-tuned model is stored in float32 whatever the checkpoint held
    assert stored_dtypes(ft) == {"F32"}
    assert read(ft / "config.json")["dtype"] == "float32"


def test_imdb_under_gpu_tf32_state_from_a_bf16_checkpoint(tmp_path, bf16_dirs, imdb_dir):
    out = tmp_path / "imdb"
    ok(run("run_imdb.py", *imdb_args(bf16_dirs["cls"], out, imdb_dir), site=TF32_STATE, tmp=tmp_path), "run_imdb.py")
    r = read(f"{out}.json")
    assert r["runtime"]["fp32_precision"]["generic"] == "tf32" and r["warnings"] == []
    assert r["model"]["checkpoint_dtype"] == "bfloat16" and r["model"]["dtype"] == "float32"
    assert r["metrics"]["n"] == 12 and (out / "test_predictions.csv").is_file()
    assert stored_dtypes(out) == {"F32"}


def test_model_dtype_auto_keeps_the_checkpoints_dtype(tmp_path, bf16_dirs, dev_file):
    """The override for users who want pure bf16 training: then the saved weights are bf16 (the check above can fail)."""
    ft = tmp_path / "ft"
    ok(run("run_squad.py", *squad_args(bf16_dirs["qa"], dev_file, ft), "--do_train", "--model_dtype", "auto"), "run_squad.py")
    assert read(f"{ft}.json")["model"]["dtype"] == "bfloat16" and stored_dtypes(ft) == {"BF16"}
    p = run("run_squad.py", *squad_args(bf16_dirs["qa"], dev_file, tmp_path / "x"), "--do_eval", "--model_dtype", "fp8")
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith("error: --model_dtype 'fp8'")


def test_inference_commands_load_bf16_checkpoints_in_fp32(bf16_dirs):
    import torch
    from bertkit.train.modeling import load_classifier, load_qa_model
    _, qa = load_qa_model(str(bf16_dirs["qa"]), seed=0)
    _, cls = load_classifier(str(bf16_dirs["cls"]), seed=0)
    assert {p.dtype for p in qa.parameters()} == {p.dtype for p in cls.parameters()} == {torch.float32}
    assert cls.config.id2label == {0: "negative", 1: "positive"}  # inference keeps the checkpoint's labels
    r = json.loads(ok(run("ask.py", "--model", bf16_dirs["qa"], "--json"), "ask.py").stdout)
    assert r["question"] == "What is the capital of China?" and "null_odds" in r
    r = json.loads(ok(run("classify.py", "--model", bf16_dirs["cls"], "--text", "A fine film."), "classify.py").stdout)
    assert r["label"] in ("negative", "positive") and set(r["probabilities"]) == {"negative", "positive"}


# Faults injected into the optional steps, after training and evaluation have produced their outputs.
RAISE_IN_OPTIONAL_STEPS = """
import bertkit.qa.inference, bertkit.results.record, bertkit.train.runtime
def boom(*a, **k):
    raise RuntimeError("injected fault")
bertkit.results.record.hardware = bertkit.train.runtime.runtime_record = bertkit.qa.inference.demo = boom
"""
KILL_IN_OPTIONAL_STEP = """
import os, signal, bertkit.train.runtime
def kill(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
bertkit.train.runtime.runtime_record = kill
"""


def test_failing_provenance_runtime_and_demo_lose_nothing(tmp_path, tiny_model_dir, dev_file):
    ft = tmp_path / "ft"
    p = ok(run("run_squad.py", *squad_args(tiny_model_dir, dev_file, ft), "--do_train", "--do_eval",
               site=RAISE_IN_OPTIONAL_STEPS, tmp=tmp_path), "run_squad.py")
    warned = [ln for ln in p.stderr.splitlines() if "injected fault" in ln]
    assert len(warned) == 3 and all("WARNING" in ln for ln in warned), p.stderr[-2000:]
    r = read(f"{ft}.json")
    assert [w.split(" failed")[0] for w in r["warnings"]] == ["provenance: hardware", "runtime record", "demo"]
    assert r["hardware"] is None and r["runtime"] is None and r["demo"] is None
    assert r["versions"]["torch"] and r["git_commit"] is not None  # the other provenance parts still recorded
    assert r["metrics"]["total"] == 12 and read(ft / "metrics.json")["metrics"] == r["metrics"]
    assert (ft / "model.safetensors").is_file() and len(read(ft / "predictions.json")) == 12


def test_a_run_killed_in_an_optional_step_keeps_model_predictions_and_metrics(tmp_path, tiny_model_dir, imdb_dir):
    out = tmp_path / "imdb"
    p = run("run_imdb.py", *imdb_args(tiny_model_dir, out, imdb_dir), site=KILL_IN_OPTIONAL_STEP, tmp=tmp_path)
    assert p.returncode == -9, p.stderr[-2000:]
    m = read(out / "metrics.json")
    assert m["metrics"]["n"] == 12 and m["baseline_metrics"]["n"] == 12 and m["command"] and m["timing"]["train_seconds"] > 0
    assert (out / "model.safetensors").is_file() and (out / "test_predictions.csv").is_file()
    assert not Path(f"{out}.json").exists() and not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize("native, precision, do_train, bf16", [
    ("1", "auto", True, True),     # a CPU with bf16 in hardware: bf16 autocast for training (1.3x here)
    ("0", "auto", True, False),    # emulated bf16 is slower than fp32: fp32
    ("1", "auto", False, False),   # nothing to train: predictions are fp32 anyway
    ("1", "fp32", True, False),    # an explicit flag wins
    ("0", "bf16", True, True)])
def test_cpu_precision_auto(monkeypatch, tmp_path, native, precision, do_train, bf16):
    from transformers import TrainingArguments
    from bertkit.train.modeling import ModelArguments
    from bertkit.train.runtime import resolve_runtime
    import torch
    if torch.cuda.is_available():
        pytest.skip("a CPU rule")
    monkeypatch.setenv("BERTKIT_CPU_BF16", native)
    a = resolve_runtime(ModelArguments(precision=precision), TrainingArguments(output_dir=str(tmp_path), do_train=do_train))
    assert a.bf16 is bf16 and a.use_cpu is bf16 and not a.fp16


def test_bf16_predictions_autocast_and_keep_fp32_weights(tmp_path, tiny_model_dir):
    # --prediction_precision bf16: predictions under bf16 autocast, close to fp32 ones; the weights stay fp32, so
    # a trained model saved after an evaluation is unchanged (the Trainer's --bf16_full_eval would cast it)
    import numpy as np
    import torch
    from datasets import Dataset
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding, TrainingArguments
    from bertkit.train.trainer import BertkitTrainer
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(tiny_model_dir)
    ds = Dataset.from_dict(dict(tok(["who wrote it?"] * 4, ["a long context " * n for n in (3, 9, 5, 7)])))
    args = TrainingArguments(output_dir=str(tmp_path), per_device_eval_batch_size=2, report_to="none", use_cpu=True)
    out = {p: BertkitTrainer(model=model, args=args, data_collator=DataCollatorWithPadding(tok),
                             prediction_precision=p).predict(ds).predictions[0] for p in ("fp32", "bf16")}
    assert all(t.dtype == torch.float32 for t in model.parameters())
    assert not np.array_equal(out["fp32"], out["bf16"]) and np.allclose(out["fp32"], out["bf16"], atol=0.1)
    with pytest.raises(ValueError, match="fp64"):
        BertkitTrainer(model=model, args=args, prediction_precision="fp64")


@pytest.mark.parametrize("device, mps, use_cpu, said", [
    ("auto", True, True, "the CPU, although Apple's MPS is here"),  # Apple silicon: the CPU unless asked
    ("auto", False, False, None),                                   # elsewhere: the Trainer's own choice
    ("cpu", False, True, None),
    ("mps", True, False, "Apple's MPS, as asked"),                  # opted in: the Trainer takes MPS
    ("mps", False, None, "no usable Apple MPS"),                    # asked for what is not there: one line
    ("cuda", False, None, "no CUDA GPU"),
    ("tpu", False, None, "not one of auto, cpu, cuda, mps")])
def test_device_on_apple_silicon_simulated(monkeypatch, caplog, tmp_path, device, mps, use_cpu, said):
    """Apple's MPS, simulated on this CPU as torch reports it there (torch.backends.mps says available)."""
    import torch
    from transformers import TrainingArguments
    from bertkit.errors import UserError
    from bertkit.train.modeling import ModelArguments
    from bertkit.train.runtime import resolve_runtime, runtime_record
    if torch.cuda.is_available():
        pytest.skip("a CPU machine's rule")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
    margs, targs = ModelArguments(device=device, precision="fp32"), TrainingArguments(output_dir=str(tmp_path))
    if use_cpu is None:
        with pytest.raises(UserError, match=said):
            resolve_runtime(margs, targs)
        return
    a = resolve_runtime(margs, targs)
    assert a.use_cpu is use_cpu
    lines = [r.getMessage() for r in caplog.records if r.name == "bertkit.train.device"]
    assert (len(lines) == 1 and said in lines[0]) if said else not lines
    if use_cpu:  # the device used and the one asked for are recorded
        rec = runtime_record(margs, a)
        assert rec["device"] == "cpu" and rec["device_requested"] == device and rec["mps_available"] is mps


def test_device_cpu_on_a_gpu_machine_simulated(monkeypatch, tmp_path):
    """--device cpu where torch sees a GPU: a CPU run (no TF32, no GPU bf16), as the flag says."""
    import torch
    from transformers import TrainingArguments
    from bertkit.train.modeling import ModelArguments
    from bertkit.train.runtime import resolve_runtime
    if torch.cuda.is_available():
        pytest.skip("simulates a GPU on a CPU machine")
    # Parsed before the GPU appears: building TrainingArguments on a simulated GPU would call into a CPU-only torch.
    parsed = TrainingArguments(output_dir=str(tmp_path), do_train=True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setenv("BERTKIT_CPU_BF16", "0")
    a = resolve_runtime(ModelArguments(device="cpu"), parsed)
    assert a.use_cpu is True and not a.bf16 and not a.tf32 and a.dataloader_pin_memory is False
