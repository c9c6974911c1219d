"""QA rows without offsets (question, context, answer) in JSONL, CSV and TSV: offsets found in the context, bad rows
refused in one line naming the row, and a training run on such files as a process."""
import csv
import json
import logging
import os
import subprocess
import sys

import pytest

from bertkit.data.squad import read_squad, read_squad_rows
from bertkit.errors import UserError
from conftest import REPO

ROWS = [{"question": "What is the capital of China?", "context": "The capital of China is Beijing.", "answer": "Beijing"},
        {"question": "Who wrote it?", "context": "Nobody knows who wrote the poem.", "answer": ""},
        {"question": "Which word repeats?", "context": "red fish, blue fish, red fish.", "answer": "red fish",
         "id": "r3"}]


def write(path, rows, delimiter=None):
    if delimiter is None:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        cols = ["id", "question", "context", "answer"]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, cols, delimiter=delimiter)
            w.writeheader()
            w.writerows([{c: r.get(c, "") for c in cols} for r in rows])
    return str(path)


@pytest.mark.parametrize("name,delimiter", [("q.jsonl", None), ("q.csv", ","), ("q.tsv", "\t")])
def test_offsets_found_in_the_context(tmp_path, caplog, name, delimiter):
    with caplog.at_level(logging.WARNING):
        rows = read_squad_rows(write(tmp_path / name, ROWS, delimiter))
    assert [r["answers"] for r in rows] == [{"text": ["Beijing"], "answer_start": [24]},
                                            {"text": [], "answer_start": []},
                                            {"text": ["red fish"], "answer_start": [0]}]
    assert [r["id"] for r in rows] == ["row1", "row2", "r3"]
    said = [m for m in caplog.messages if "more than once" in m]  # 'red fish' twice: the first taken
    assert len(said) == 1 and "row 3" in said[0] and "first occurrence" in said[0]


@pytest.mark.parametrize("change,needle", [
    ({"answer": "Shanghai"}, "row 1: the answer 'Shanghai' is not in its context"),
    ({"question": " "}, "row 1 has an empty question"),
    ({"context": None}, "row 1 lacks context"),
])
def test_bad_rows_are_one_line(tmp_path, change, needle):
    rows = [{**ROWS[0], **change}] + ROWS[1:]
    with pytest.raises(UserError, match=needle):
        read_squad(write(tmp_path / "bad.jsonl", rows))


def test_wrong_delimiter_is_named(tmp_path):
    path = write(tmp_path / "q.csv", ROWS, "\t")  # tabs in a .csv
    with pytest.raises(UserError, match="check the delimiter"):
        read_squad(path)


def test_trains_and_evaluates_on_files_without_offsets(tmp_path, tiny_model_dir, dev_file):
    """A user's own QA files: JSONL to train on, CSV to evaluate, no offsets in either, a tiny model."""
    dev = read_squad_rows(dev_file)
    plain = [{"id": r["id"], "question": r["question"], "context": r["context"],
              "answer": r["answers"]["text"][0] if r["answers"]["text"] else ""} for r in dev[:60]]
    train, val = write(tmp_path / "train.jsonl", plain[:40]), write(tmp_path / "val.csv", plain[40:], ",")
    p = subprocess.run([sys.executable, "run_squad.py", "--model_name_or_path", tiny_model_dir, "--train_file", train,
                        "--validation_file", val, "--do_train", "--do_eval", "--max_seq_length", "128",
                        "--doc_stride", "32", "--num_train_epochs", "1", "--per_device_train_batch_size", "8",
                        "--report_to", "none", "--null_score_diff_threshold", "0", "--output_dir", str(tmp_path / "o"),
                        "--results_file", str(tmp_path / "o.json")], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads((tmp_path / "o.json").read_text())
    assert r["metrics"]["total"] == 20 and r["data"]["train"]["n_examples"] == 40
    assert r["metrics"]["HasAns_total"] == sum(1 for x in plain[40:] if x["answer"])
