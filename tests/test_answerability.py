"""--answerability_head_weight: the second head trains, is saved beside a plain model folder, comes back wherever
the model is loaded (ask.py, a checkpoint) and moves the no-answer margin by its logit, as post-processing says."""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import pytest

from bertkit.qa.postprocess import postprocess_qa
from conftest import REPO


def test_margin_takes_the_surest_window():
    ex = [{"id": "q", "context": "ab cd"}]
    offsets = [[None, (0, 2), (3, 5)], [None, (0, 2), (3, 5)]]
    start = np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]])
    end = np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]])
    _, _, plain, _ = postprocess_qa(ex, ["q", "q"], offsets, start, end)
    _, _, odds, _ = postprocess_qa(ex, ["q", "q"], offsets, start, end, answerable_logits=np.array([-3.0, 1.5]))
    assert plain["q"] == pytest.approx(-2.0) and odds["q"] == pytest.approx(-3.5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model_dir, dev_file):
    d = tmp_path_factory.mktemp("verifier")
    cmd = [sys.executable, "run_squad.py", "--model_name_or_path", tiny_model_dir, "--protocol", "dev-split",
           "--validation_file", dev_file, "--max_eval_samples", "12", "--max_seq_length", "128", "--doc_stride", "32",
           "--report_to", "none", "--do_train", "--do_eval", "--max_train_samples", "24", "--num_train_epochs", "1",
           "--per_device_train_batch_size", "8", "--learning_rate", "1e-3", "--save_strategy", "epoch",
           "--null_score_diff_threshold", "auto", "--calibration_samples", "12", "--answerability_head_weight", "1",
           "--output_dir", str(d / "ft"), "--results_file", str(d / "ft.json")]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert p.returncode == 0, p.stderr[-3000:]
    return d


def test_head_saved_apart_and_used_where_the_model_is_loaded(trained):
    from safetensors import safe_open
    from transformers import AutoModelForQuestionAnswering
    from bertkit.qa.inference import answer
    from bertkit.train.answerability import FILE, NAME, head_of
    from bertkit.train.modeling import load_qa_model
    ft = trained / "ft"
    r = json.loads((trained / "ft.json").read_text())
    assert r["hyperparameters"]["answerability_head_weight"] == 1 and (ft / FILE).is_file()
    with safe_open(str(ft / "model.safetensors"), "pt") as f:  # a plain model: loads anywhere without our code
        assert not any(k.startswith(NAME) for k in f.keys())
    _, info = AutoModelForQuestionAnswering.from_pretrained(str(ft), output_loading_info=True)
    assert not info["unexpected_keys"] and not info["missing_keys"]
    tok, model = load_qa_model(str(ft), seed=0)
    head = head_of(model)
    assert head is not None
    ckpt = next(ft.glob("checkpoint-*"))  # a checkpoint keeps it inside model.safetensors (resume restores it)
    assert head_of(load_qa_model(str(ckpt), seed=0)[1]) is not None
    q, c = "What is the capital of China?", "The capital of China is Beijing."
    with_head = answer(model, tok, [q], [c])[0]
    v = head.logits  # cleared after use: one forward for the logit alone
    assert v is None
    feats = tok(q, c, return_tensors="pt")
    with torch.no_grad():
        model(**feats)
    logit = float(head.logits.detach()[0])
    delattr(model, NAME)  # the same model without it: the margin differs by the window's logit (one window here)
    plain = answer(model, tok, [q], [c])[0]
    assert with_head["null_odds"] == pytest.approx(plain["null_odds"] - logit, abs=1e-4)
    p = subprocess.run([sys.executable, "ask.py", "--model", str(ft), "--json", "--question", q, "--context", c],
                       cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["null_odds"] == pytest.approx(with_head["null_odds"], abs=1e-3)
