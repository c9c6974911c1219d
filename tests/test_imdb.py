"""IMDB: label mapping, stratified splits on the real files, truncation, metrics, the script end to end."""
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bertkit.classify.encode import encode
from bertkit.classify.scoring import ID2LABEL, classification_metrics
from bertkit.data.imdb import labelled_dataset, read_labelled, stratified_split, stratified_take
from bertkit.data.labels import Columns
from bertkit.errors import UserError
from conftest import REPO, committed_classification


@pytest.fixture(scope="module")
def TRAIN(imdb_dir):
    return imdb_dir / "train.csv.gz"


@pytest.fixture(scope="module")
def TEST(imdb_dir):
    return imdb_dir / "test.csv.gz"


@pytest.fixture(scope="module")
def train_ds(TRAIN):
    return labelled_dataset(str(TRAIN), Columns(sentiment=True))[0]  # IMDB's classes: negative 0, positive 1


def test_label_names_are_mapped_and_bad_labels_named(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('review,sentiment\n"good",pos\n"bad",negative\n"ok",1\n"meh",0\n"great", Positive\n')
    rows = read_labelled(str(p), "review", "sentiment")
    assert [r["label"] for r in rows] == [1, 0, 1, 0, 1]
    p.write_text('text,label\n"good",pos\n"odd",maybe\n')
    with pytest.raises(UserError, match=r"line 3: label 'maybe'"):
        read_labelled(str(p))
    with pytest.raises(UserError, match="set --text_column"):
        read_labelled(str(p), "review")
    j = tmp_path / "r.jsonl.gz"
    with gzip.open(j, "wt") as f:
        f.write(json.dumps({"id": "a", "text": "fine", "label": "neg"}) + "\n")
    assert read_labelled(str(j)) == [{"id": "a", "text": "fine", "label": 0}]


def test_real_train_file_is_sorted_by_label_and_subsets_are_stratified(train_ds):
    labels = np.array(train_ds["label"])
    assert len(labels) == 25000 and labels[:12500].sum() == 0 and labels[12500:].sum() == 12500
    idx = stratified_take(labels, 1001, seed=3)
    assert len(idx) == 1001 and abs(labels[idx].sum() - 500.5) <= 0.5
    assert (idx == stratified_take(labels, 1001, seed=3)).all() and not (idx == stratified_take(labels, 1001, seed=4)).all()
    rest, val = stratified_split(train_ds, 1000, seed=3)
    assert len(val) == 1000 and sum(val["label"]) == 500 and len(rest) == 24000
    assert not set(val["id"]) & set(rest["id"])


def test_head_tail_keeps_first_and_last_tokens(tokenizer):
    long = " ".join(f"w{i}" for i in range(600))
    short = "a short review"
    ht = encode({"text": [long, short]}, tokenizer, 128, "head_tail")
    head = encode({"text": [long, short]}, tokenizer, 128, "head")
    assert len(ht["input_ids"][0]) == len(head["input_ids"][0]) == 128
    full = tokenizer(long, add_special_tokens=False)["input_ids"]
    n_head = round(126 * 128 / 510)
    assert ht["input_ids"][0][1:1 + n_head] == full[:n_head] and ht["input_ids"][0][-(127 - n_head):-1] == full[-(126 - n_head):]
    assert ht["input_ids"][1] == head["input_ids"][1]  # short reviews are not cut
    assert "<" not in tokenizer.decode(encode({"text": ["good<br />film"]}, tokenizer, 32, "head")["input_ids"][0])


def test_metrics_by_hand():
    m = classification_metrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    assert m["accuracy"] == pytest.approx(0.6) and m["confusion_matrix"]["matrix"] == [[1, 1], [1, 2]]
    assert m["per_class"]["positive"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["negative"]["recall"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)


def run(*args, check=True, **env_more):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env_more}
    p = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)
    if check and p.returncode:
        raise AssertionError(p.stderr[-3000:])
    return p


def test_run_imdb_end_to_end_with_tiny_bert(tiny_model_dir, tmp_path, TRAIN, TEST):
    args = ["run_imdb.py", "--model_name_or_path", tiny_model_dir, "--train_file", TRAIN, "--test_file", TEST,
            "--max_train_samples", 32, "--max_eval_samples", 16, "--max_predict_samples", 24, "--validation_size", 100,
            "--max_seq_length", 64, "--do_train", "--do_eval", "--do_predict", "--num_train_epochs", 1,
            "--per_device_train_batch_size", 8, "--report_to", "none", "--output_dir", tmp_path / "o",
            "--results_file", tmp_path / "r.json", "--save_strategy", "no"]
    run(*args, BERTKIT_CPU_BF16="1")  # as on a CPU with bf16 in hardware: bf16 training, fp32 predictions
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["runtime"]["precision"] == "bf16" and r["runtime"]["prediction_precision"] == "fp32"
    for k in ("task", "command", "model", "data", "hyperparameters", "metrics", "baseline_metrics", "timing",
              "hardware", "versions", "git_commit", "created"):
        assert k in r
    assert r["task"] == "imdb" and r["metrics"]["n"] == r["baseline_metrics"]["n"] == 24
    assert r["timing"]["resumed_from_checkpoint"] is None and r["timing"]["train_seconds"] > 0
    assert r["data"]["counts"]["train"] == {"n": 32, "positive": 16, "per_class": {"negative": 16, "positive": 16}}
    assert r["data"]["counts"]["test"]["positive"] == 12 and r["data"]["labels"]["names"] == ["negative", "positive"]
    lines = (tmp_path / "o" / "test_predictions.csv").read_text().splitlines()
    assert lines[0] == "id,label,predicted,probability" and len(lines) == 25
    assert {x.split(",")[1] for x in lines[1:]} == {"negative", "positive"}  # labels by name
    assert sum(x.split(",")[1] == x.split(",")[2] for x in lines[1:]) / 24 == pytest.approx(r["metrics"]["accuracy"])
    again = run(*args, check=False)
    assert again.returncode == 2 and again.stderr.strip().splitlines()[-1].startswith("error: ")
    out = json.loads(run("classify.py", "--model", tmp_path / "o", "--text", "A wonderful film.").stdout)
    assert out["label"] in ("positive", "negative") and sum(out["probabilities"].values()) == pytest.approx(1, abs=1e-3)


def test_minilm_learns_sentiment(minilm_path, train_ds, tmp_path, TEST):
    """The real pre-trained MiniLM, ~1 minute: accuracy on held-out test reviews well above its untrained head."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments
    from bertkit.train.modeling import load_classifier
    tok, model = load_classifier(minilm_path, 0, 2, ID2LABEL)
    test = labelled_dataset(str(TEST), Columns(sentiment=True))[0]
    tr = train_ds.select(stratified_take(train_ds["label"], 256, 0))
    te = test.select(stratified_take(test["label"], 200, 0))
    enc = lambda ds: ds.map(encode, batched=True, fn_kwargs=dict(tokenizer=tok, max_seq_length=128)).remove_columns(["text", "id"])  # noqa: E731
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=16, learning_rate=2e-4, warmup_steps=0.1,
                             num_train_epochs=2, save_strategy="no", report_to="none", seed=0, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=enc(tr), processing_class=tok, data_collator=DataCollatorWithPadding(tok))
    acc = lambda: float((trainer.predict(enc(te)).predictions.argmax(-1) == np.array(te["label"])).mean())  # noqa: E731
    before = acc()
    trainer.train()
    after = acc()
    print(f"\nMiniLM IMDB accuracy on 200 test reviews: before {before:.3f}, after {after:.3f}")
    assert after > 0.75 and after > before + 0.15


def _imdb_results():
    found = [p for p in sorted((REPO / "results").glob("*.json")) if json.loads(p.read_text()).get("task") == "imdb"]
    return found or [pytest.param(None, marks=pytest.mark.skip(reason="no committed IMDB results yet"))]


@pytest.mark.parametrize("path", _imdb_results())
def test_committed_imdb_results_match_their_predictions(path):
    r = json.loads(path.read_text())
    labels, preds = committed_classification(r)
    m = classification_metrics(labels, preds)
    assert m["confusion_matrix"] == r["metrics"]["confusion_matrix"] and m["accuracy"] == pytest.approx(r["metrics"]["accuracy"])
    assert m["n"] == r["hyperparameters"]["max_predict_samples"] and r["baseline_metrics"]["n"] == m["n"]
