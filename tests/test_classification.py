"""Any labelled text (issue 31): class order, the one-line checks, multi-label metrics, every file format, and as
processes on a tiny model: the 35-topic task from the real SQuAD dev file (with classify.py, the summary and its
confusion plot), a text-pair task, and multi-label from Parquet + a save_to_disk folder."""
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from bertkit.classify.scoring import classification_metrics, multilabel_metrics
from bertkit.data.imdb import labelled_dataset, read_rows
from bertkit.data.labels import Columns
from bertkit.data.tasks import build
from bertkit.errors import UserError
from conftest import REPO


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args, check=True):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    p = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)
    if check and p.returncode:
        raise AssertionError(p.stderr[-3000:])
    return p


def train_args(model, train, test, out, *extra):
    return ["run_classification.py", "--model_name_or_path", model, "--train_file", train, "--test_file", test,
            "--max_seq_length", 64, "--do_train", "--do_eval", "--do_predict", "--num_train_epochs", 1,
            "--per_device_train_batch_size", 8, "--report_to", "none", "--save_strategy", "no",
            "--output_dir", out, "--results_file", f"{out}.json", *extra]


def test_class_order_is_numeric_for_integers_and_sorted_otherwise(tmp_path):
    ints = write(tmp_path / "i.csv", "text,label\na,10\nb,2\nc,1\nd,2\n")
    ds, names = labelled_dataset(ints)
    assert names == ["1", "2", "10"] and ds["label"] == [2, 1, 0, 1]
    words = write(tmp_path / "w.jsonl", "".join(json.dumps({"text": t, "label": lab}) + "\n"
                                               for t, lab in (("x", "spam"), ("y", "ham"), ("z", "eggs"))))
    assert labelled_dataset(words)[1] == ["eggs", "ham", "spam"]
    test = write(tmp_path / "t.csv", "text,label\nq,ham\nr,toast\n")
    with pytest.raises(UserError, match=r"line 3: label 'toast' is not one of the 3 classes of the training data"):
        labelled_dataset(test, names=["eggs", "ham", "spam"], flag="--test_file", split="test")


@pytest.mark.parametrize("content,needle", [
    ("text,label\na,x\nb,x\n", "holds one class ('x')"),
    ("text,label\n  ,x\nb,y\n", "line 2: the 'text' text is empty"),
    ("text,label\na,\nb,y\n", "line 2: the label is empty"),
    ("text\tlabel\na\tx\nb\ty\n", "reads as one column: the file is split by '\\t', not ','"),
])
def test_bad_tables_are_one_line(tmp_path, content, needle):
    with pytest.raises(UserError, match=re.escape(needle)):
        labelled_dataset(write(tmp_path / "bad.csv", content))


def test_multi_label_cells_and_pairs(tmp_path):
    cols = Columns(text="q", label="tags", text_pair="p", label_delimiter=";")
    path = write(tmp_path / "m.tsv", "q\tp\ttags\nwho\tBob did\tperson; answer\nwhy\tno idea\t\n")
    ds, names = labelled_dataset(path, cols)
    assert names == ["answer", "person"] and ds["label"] == [[1.0, 1.0], [0.0, 0.0]]
    assert ds["text_pair"] == ["Bob did", "no idea"]
    with pytest.raises(UserError, match="no 'q' or 'x' or 'tags' column"):
        read_rows(path, Columns(text="q", label="tags", text_pair="x"))


def test_metrics_by_hand_three_classes_and_multi_label():
    m = classification_metrics([0, 1, 2, 2], [0, 2, 2, 1], ["a", "b", "c"])
    assert m["confusion_matrix"]["matrix"] == [[1, 0, 0], [0, 0, 1], [0, 1, 1]] and m["accuracy"] == 0.5
    assert m["per_class"]["c"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["macro_f1"] == pytest.approx((1 + 0 + 0.5) / 3)
    y, p = np.array([[1, 0], [1, 1], [0, 0]]), np.array([[1, 0], [1, 0], [0, 1]])
    ml = multilabel_metrics(y, p, ["x", "z"])
    assert ml["accuracy"] == pytest.approx(1 / 3) and ml["label_accuracy"] == pytest.approx(4 / 6)
    assert ml["confusion_matrix"]["per_label"]["z"] == [[1, 1], [1, 0]] and ml["per_class"]["x"]["f1"] == 1.0
    assert ml["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))


@pytest.fixture(scope="module")
def topics(tmp_path_factory, dev_file):
    d = tmp_path_factory.mktemp("topics")
    m = build("topics", str(dev_file), str(d / "task"), seed=3)
    assert build("topics", str(dev_file), str(d / "task"), seed=3) == m  # a second build keeps the files
    with pytest.raises(UserError, match="differs"):
        build("topics", str(dev_file), str(d / "task"), seed=4)  # never overwritten
    return d, m


def test_topics_task_is_every_title_split_within_each_article(topics):
    d, m = topics
    rows = {k: list(csv.DictReader(open(d / "task" / f"{k}.csv", encoding="utf-8"))) for k in ("train", "test")}
    titles = {r["label"] for r in rows["train"]}
    assert len(titles) == 35 and {r["label"] for r in rows["test"]} == titles and "Victoria (Australia)" in titles
    assert len(rows["train"]) + len(rows["test"]) == 1204  # every paragraph of the dev file once
    assert not {r["text"] for r in rows["train"]} & {r["text"] for r in rows["test"]}
    assert 0.17 < len(rows["test"]) / 1204 < 0.23 and m["counts"]["test"]["classes"] == 35


def test_topics_train_evaluate_classify_and_summary(topics, tiny_model_dir, tmp_path):
    d, m = topics
    out = tmp_path / "results" / "topics_tiny"
    run(*train_args(tiny_model_dir, d / "task" / "train.csv", d / "task" / "test.csv", out, "--max_train_samples", 70,
                    "--max_predict_samples", 70, "--validation_size", 35))
    r = json.loads(out.with_suffix(".json").read_text())
    names = r["data"]["labels"]["names"]
    assert r["task"] == "classification" and len(names) == 35 and r["protocol"].startswith("topics of the SQuAD")
    assert r["data"]["built_by"]["source"]["sha256"] == m["source"]["sha256"]
    per_class = r["data"]["counts"]["test"]["per_class"]  # stratified: every title, in its share of the paragraphs
    assert r["data"]["counts"]["train"]["n"] == 70 and sum(per_class.values()) == 70 and min(per_class.values()) >= 1
    cm = np.array(r["metrics"]["confusion_matrix"]["matrix"])
    assert cm.shape == (35, 35) and cm.sum() == r["metrics"]["n"] == r["baseline_metrics"]["n"] == 70
    assert r["metrics"]["accuracy"] == pytest.approx(np.trace(cm) / 70)
    config = json.loads((out / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(35)] == names
    preds = list(csv.DictReader(open(out / "test_predictions.csv", encoding="utf-8")))
    assert len(preds) == 70 and {p["label"] for p in preds} <= set(names) and {p["predicted"] for p in preds} <= set(names)
    said = json.loads(run("classify.py", "--model", out, "--text", "The Normans conquered England.").stdout)
    assert said["label"] in names and list(said["probabilities"]) == names
    run("-m", "bertkit.report.summary", "--results", tmp_path / "results")
    summary = (tmp_path / "results" / "summary.md").read_text()
    assert "Text classification (your labels)" in summary and "| 35 |" in summary
    assert (tmp_path / "results" / "plots" / "topics_tiny" / "confusion.png").is_file()


def test_text_pairs_train_and_classify(tmp_path, tiny_model_dir, dev_file):
    build("answerable", str(dev_file), str(tmp_path / "pairs"))
    out = tmp_path / "o"
    run(*train_args(tiny_model_dir, tmp_path / "pairs" / "train.jsonl", tmp_path / "pairs" / "test.jsonl", out,
                    "--text_column", "question", "--text_pair_column", "passage", "--max_train_samples", 24,
                    "--max_predict_samples", 16, "--validation_size", 8))
    r = json.loads((tmp_path / "o.json").read_text())
    assert r["data"]["labels"]["names"] == ["answerable", "unanswerable"] and r["data"]["columns"]["text_pair"] == "passage"
    assert r["metrics"]["n"] == 16
    said = json.loads(run("classify.py", "--model", out, "--text", "Who won?", "--text_pair", "Denver won.").stdout)
    assert said["label"] in ("answerable", "unanswerable")
    alone = run("classify.py", "--model", out, "--text", "Who won?", check=False)
    assert alone.returncode == 2 and alone.stderr.strip().splitlines()[-1] == (
        "error: this model was trained on text pairs ('passage' the second): pass --text_pair '...'")


def test_multi_label_from_parquet_and_a_saved_folder(tmp_path, tiny_model_dir):
    from datasets import Dataset, DatasetDict
    rows = [{"text": f"text {i} about {'cats' if i % 2 else 'dogs'}", "tags": ["cat"] if i % 2 else ["dog", "pet"]}
            for i in range(24)]
    Dataset.from_list(rows[:16]).to_parquet(str(tmp_path / "train.parquet"))
    DatasetDict({"test": Dataset.from_list(rows[16:])}).save_to_disk(str(tmp_path / "saved"))
    out = tmp_path / "o"
    run(*train_args(tiny_model_dir, tmp_path / "train.parquet", tmp_path / "saved", out, "--label_column", "tags",
                    "--multi_label", "true", "--validation_size", 4))
    r = json.loads((tmp_path / "o.json").read_text())
    assert r["data"]["labels"] == {**r["data"]["labels"], "names": ["cat", "dog", "pet"], "multi_label": True}
    assert set(r["metrics"]["confusion_matrix"]["per_label"]) == {"cat", "dog", "pet"} and r["metrics"]["n"] == 8
    assert json.loads((out / "config.json").read_text())["problem_type"] == "multi_label_classification"
    said = json.loads(run("classify.py", "--model", out, "--text", "text 3 about cats").stdout)
    assert set(said["labels"]) <= {"cat", "dog", "pet"} and said["threshold"] == 0.5


def test_hub_splits_keep_the_hubs_label_names(monkeypatch):
    """--dataset_name: a ClassLabel column (and a list of them, multi-label) gives the hub's names in its order;
    a missing column is one line (datasets.load_dataset stood in for: the hub is not reachable here)."""
    import datasets
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value
    from bertkit.classify.arguments import DataArguments
    from bertkit.classify.data import load_splits
    single = Features({"text": Value("string"), "label": ClassLabel(names=["world", "sports", "business"])})
    multi = Features({"text": Value("string"), "label": Sequence(ClassLabel(names=["x", "y"]))})
    rows = lambda f, k: [{"text": f"t{i}", "label": [i % 2] if f is multi else i % 3} for i in range(k)]  # noqa: E731
    for feats, want, extra in ((single, ["world", "sports", "business"], {}), (multi, ["x", "y"], {"multi_label": True})):
        dd = DatasetDict({s: Dataset.from_list(rows(feats, n), features=feats) for s, n in (("train", 12), ("test", 6))})
        monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: dd)
        splits, names, prov = load_splits(DataArguments(dataset_name="stand-in", validation_size=3, **extra), 0)
        assert names == want and prov["source"] == "hub" and len(splits["test"]) == 6
    with pytest.raises(UserError, match=r"'stand-in' train has columns \['text', 'label'\] but no 'review'"):
        load_splits(DataArguments(dataset_name="stand-in", text_column="review"), 0)
