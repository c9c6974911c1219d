"""The laptop scripts run the offline MiniLM unless MODEL is set, whatever the Hugging Face cache holds, and say
which model runs and why; another model gets its own recipe and a warning with the expected time."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def hf_home_with_bert_base(tmp_path_factory, tiny_model_dir):
    """A Hugging Face cache holding 'bert-base-uncased' (the tiny BERT under that name), as most users' caches do."""
    home = tmp_path_factory.mktemp("hf_home")
    repo = home / "hub" / "models--bert-base-uncased"
    snap = repo / "snapshots" / COMMIT
    shutil.copytree(tiny_model_dir, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return home


def env_with(home, **kw):
    e = {k: v for k, v in os.environ.items() if k not in ("MODEL", "LR")}
    return {**e, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1", **{k: str(v) for k, v in kw.items()}}


def test_cached_bert_base_does_not_change_the_laptop_model(hf_home_with_bert_base, dev_file, tmp_path, minilm_path):
    env = env_with(hf_home_with_bert_base, DATA_DIR=Path(dev_file).parents[1])
    # the trap is real: with this cache, bert-base-uncased loads offline
    probe = subprocess.run([sys.executable, "-c", "from bertkit.train.modeling import resolve_model as r; print(r('bert-base-uncased'))"],
                           cwd=REPO, env=env, capture_output=True, text=True)
    assert probe.returncode == 0 and probe.stdout.strip() == "bert-base-uncased", probe.stderr
    out = tmp_path / "base"
    p = subprocess.run(["bash", "scripts/baseline.sh"], cwd=REPO, capture_output=True, text=True,
                       env={**env, "OUTPUT_DIR": str(out), "MAX_EVAL_SAMPLES": "6", "MAX_SEQ_LENGTH": "128",
                            "DOC_STRIDE": "32"})
    assert p.returncode == 0, p.stderr[-3000:]
    said = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("model:")]
    assert len(said) == 1 and "offline MiniLM" in said[0] and "laptop default" in said[0], said
    r = json.loads(Path(f"{out}.json").read_text())
    assert Path(r["model"]["name_or_path"]).resolve() == Path(minilm_path).resolve(), r["model"]


def plan(script, home, **kw):
    """What a laptop script would run (PRINT_ONLY=1: its model and recipe chosen, nothing run)."""
    p = subprocess.run(["bash", f"scripts/{script}"], cwd=REPO, env=env_with(home, PRINT_ONLY=1, **kw),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    main = [ln for ln in p.stdout.splitlines() if re.match(r"\+ \S*python\S* run_(squad|imdb|classification)\.py ", ln)]
    assert len(main) == 1, p.stdout
    return main[0].split(), p.stderr


def flag(cmd, name):
    return cmd[cmd.index(name) + 1]


@pytest.mark.parametrize("script, tuned_lr, other_lr", [("finetune_subset.sh", "3e-4", "5e-5"),
                                                         ("imdb_subset.sh", "2e-4", "2e-5"),
                                                         ("topics_subset.sh", "2e-4", "2e-5")])
def test_another_model_gets_its_recipe_and_a_time_warning(hf_home_with_bert_base, minilm_path, dev_file, imdb_dir,
                                                          script, tuned_lr, other_lr):
    home, data = hf_home_with_bert_base, imdb_dir.parent
    cmd, err = plan(script, home, DATA_DIR=data)
    assert flag(cmd, "--model_name_or_path") == minilm_path and flag(cmd, "--learning_rate") == tuned_lr
    assert "warning:" not in err
    cmd, err = plan(script, home, DATA_DIR=data, MODEL="bert-base-uncased")
    assert flag(cmd, "--model_name_or_path") == "bert-base-uncased" and flag(cmd, "--learning_rate") == other_lr
    said = [ln for ln in err.splitlines() if ln.startswith("model:")]
    assert said == ["model: bert-base-uncased (MODEL=bert-base-uncased set by you)"], err
    assert "--calibration_answer_floor" not in cmd  # MiniLM's default job only
    warn = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(warn) == 1 and "not the model this laptop recipe was tuned for" in warn[0] and " min " in warn[0], err
    # where bert-base cannot be loaded (an empty cache): the MiniLM, saying why, with its tuned recipe
    cmd, err = plan(script, home.parent, DATA_DIR=data, MODEL="bert-base-uncased")
    assert flag(cmd, "--model_name_or_path") == minilm_path and flag(cmd, "--learning_rate") == tuned_lr
    assert "cannot be loaded here" in err and "warning:" not in err


def test_quick_job_says_what_it_is_and_keeps_the_ten_minute_recipe(hf_home_with_bert_base, dev_file):
    """QUICK=1: its first line says it learns spans, not answerability, and points to the default job; its recipe
    is the ~10-minute one (3,200 questions, one pass). The default job trains every question the cap keeps."""
    env = env_with(hf_home_with_bert_base, PRINT_ONLY=1, QUICK=1, DATA_DIR=Path(dev_file).parents[1])
    p = subprocess.run(["bash", "scripts/finetune_subset.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    first = p.stdout.splitlines()[0]
    assert first.startswith("QUICK=1") and "not which questions have no answer" in first and "default job" in first
    quick, _ = plan("finetune_subset.sh", hf_home_with_bert_base, QUICK=1, DATA_DIR=Path(dev_file).parents[1])
    default, _ = plan("finetune_subset.sh", hf_home_with_bert_base, DATA_DIR=Path(dev_file).parents[1])
    assert flag(quick, "--max_train_samples") == "3200" and flag(quick, "--num_train_epochs") == "1"
    assert "--max_train_samples" not in default and float(flag(default, "--num_train_epochs")) > 1
    # the default job also trains on one-sentence contexts (issue 30); the quick one keeps its budget without them
    assert (flag(default, "--short_context_share"), flag(default, "--short_context_negatives")) == ("0.5", "random")
    assert "--short_context_share" not in quick
    # and raises its threshold to answer at least 0.6 x the answerable share (issue 30); the quick one does not
    assert flag(default, "--calibration_answer_floor") == "0.6" and "--calibration_answer_floor" not in quick
    off, _ = plan("finetune_subset.sh", hf_home_with_bert_base, CALIBRATION_ANSWER_FLOOR="",
                  DATA_DIR=Path(dev_file).parents[1])
    assert "--calibration_answer_floor" not in off
    for cmd in (quick, default):
        assert flag(cmd, "--null_score_diff_threshold") == "auto" and flag(cmd, "--precision") == "auto"


def test_cpu_speed_levers_are_the_default_and_each_turns_off(hf_home_with_bert_base, dev_file):
    """On a CPU the laptop job trains without attention dropout (MiniLM only: its recipe was checked without it)
    and with eager attention in training; each knob turns its lever off; TORCH_COMPILE=1 compiles."""
    data = Path(dev_file).parents[1]
    cmd, _ = plan("finetune_subset.sh", hf_home_with_bert_base, DATA_DIR=data, DEVICE="cpu")
    assert (flag(cmd, "--attention_dropout"), flag(cmd, "--train_attn_implementation"),
            flag(cmd, "--torch_compile")) == ("0", "eager", "0")
    off, _ = plan("finetune_subset.sh", hf_home_with_bert_base, DATA_DIR=data, DEVICE="cpu", ATTENTION_DROPOUT="",
                  TRAIN_ATTN_IMPLEMENTATION="", TORCH_COMPILE="1")
    assert "--attention_dropout" not in off and "--train_attn_implementation" not in off
    assert flag(off, "--torch_compile") == "1"
    other, _ = plan("finetune_subset.sh", hf_home_with_bert_base, DATA_DIR=data, DEVICE="cpu", MODEL="bert-base-uncased")
    assert "--attention_dropout" not in other and flag(other, "--train_attn_implementation") == "eager"
    gpu, _ = plan("finetune_subset.sh", hf_home_with_bert_base, DATA_DIR=data, DEVICE="cuda")
    assert "--attention_dropout" not in gpu and "--train_attn_implementation" not in gpu
    assert flag(gpu, "--torch_compile") == "0"


def test_time_warning_reads_a_run_of_the_same_size_scaled_to_the_budget(tiny_model_dir, tmp_path, monkeypatch):
    """Another model's expected time: a committed run of a model of its size where there is one (its CPU model's
    first), scaled to the epochs and training questions asked for (its short-context copies not counted)."""
    from bertkit.tools import laptop
    run = {"model": {"num_hidden_layers": 2, "hidden_size": 64}, "timing": {"train_seconds": 600},
           "hardware": {"cpu_count": 2, "torch_threads": 2, "cpu_model": "Some CPU"}, "runtime": {"precision": "fp32"},
           "hyperparameters": {"num_train_epochs": 2.0, "max_train_samples": None}, "created": "2026-01-01",
           "data": {"train": {"n_examples": 1500}, "short_contexts": {"added": {"answer_sentence": 500}}}}
    (tmp_path / "squad_subset_20260101_000000.json").write_text(json.dumps(run))
    monkeypatch.setattr(laptop, "RESULTS", tmp_path)
    say = lambda **kw: laptop.estimate(tiny_model_dir, "squad", **kw)  # noqa: E731
    assert say().startswith("roughly 10 min of training: a committed run of a model of this size took 10.0 min "
                            "(Some CPU, fp32)"), say()
    assert say(epochs="1").startswith("roughly 5 min") and "for its own budget" in say(epochs="1")
    assert say(max_train_samples="500").startswith("roughly 5 min")      # of its 1,000 questions
    assert say(max_train_samples="5000").startswith("roughly 10 min")    # it had them all: no more than that
    assert say(epochs="oops").startswith("roughly 10 min")               # the run itself refuses it
    subset = {**run, "hyperparameters": {"num_train_epochs": 2.0, "max_train_samples": 1000}}
    (tmp_path / "squad_subset_20260101_000000.json").write_text(json.dumps(subset))
    monkeypatch.setitem(laptop.JOBS, "squad", (*laptop.JOBS["squad"][:1], lambda d: True, *laptop.JOBS["squad"][2:]))
    assert say(max_train_samples="").startswith("more training than that run's")   # all of them: unknown
