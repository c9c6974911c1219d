"""QA rows without offsets (question, context, answer) in JSONL, CSV and TSV: offsets found in the context, bad rows
refused in one line naming the row, and a training run on such files as a process. Parquet files and save_to_disk
folders (a Dataset, a DatasetDict's split per flag) read into the same rows as the JSONL, in either row shape."""
import csv
import json
import logging
import os
import subprocess
import sys

import pytest

from bertkit.data.files import sha256_path
from bertkit.data.squad import load_squad, read_squad, read_squad_rows
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


@pytest.mark.parametrize("sources", ["jsonl+csv", "parquet+folder"])
def test_trains_and_evaluates_on_files_without_offsets(tmp_path, tiny_model_dir, dev_file, sources):
    """A user's own QA data, no offsets in it, a tiny model: JSONL to train on and CSV to evaluate, or a Parquet
    file to train on and a save_to_disk DatasetDict folder whose validation split is evaluated."""
    dev = read_squad_rows(dev_file)
    plain = [{"id": r["id"], "question": r["question"], "context": r["context"],
              "answer": r["answers"]["text"][0] if r["answers"]["text"] else ""} for r in dev[:60]]
    if sources == "jsonl+csv":
        train, val = write(tmp_path / "train.jsonl", plain[:40]), write(tmp_path / "val.csv", plain[40:], ",")
    else:
        train = save(tmp_path / "train.parquet", plain[:40], "parquet")
        val = save(tmp_path / "val", {"train": plain[:40], "validation": plain[40:]}, "dict")
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
    assert r["data"]["files"]["validation"]["sha256"] == sha256_path(val)


# every record with the same keys (id null: the reader numbers the row), as a Parquet/Arrow column needs them
PLAIN = [{"id": r.get("id"), **{c: r[c] for c in ("question", "context", "answer")}} for r in ROWS]


def flat_records(tmp_path):
    """PLAIN in the flat SQuAD shape (id, title, context, question, answers{text, answer_start})."""
    return [{k: r[k] for k in ("id", "title", "context", "question", "answers")}
            for r in read_squad_rows(write(tmp_path / "plain.jsonl", PLAIN))]


def save(path, records, kind):
    """records as a Parquet file, a Dataset folder, or a DatasetDict folder ({split: records})."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset, DatasetDict
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(records), path)
    elif kind == "dataset":
        Dataset.from_list(records).save_to_disk(str(path))
    else:
        DatasetDict({k: Dataset.from_list(v) for k, v in records.items()}).save_to_disk(str(path))
    return str(path)


def one_line_error(call, *args, **kwargs) -> str:
    with pytest.raises(UserError) as e:
        call(*args, **kwargs)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("kind", ["parquet", "dataset"])
@pytest.mark.parametrize("shape", ["plain", "flat"])
def test_arrow_sources_read_as_their_jsonl(tmp_path, kind, shape):
    records = PLAIN if shape == "plain" else flat_records(tmp_path)
    path = save(tmp_path / ("q.parquet" if kind == "parquet" else "q"), records, kind)
    assert read_squad_rows(path) == read_squad_rows(write(tmp_path / "q.jsonl", records))


@pytest.mark.parametrize("shape", ["plain", "flat"])
def test_a_dataset_dict_gives_each_flag_its_split(tmp_path, shape):
    records = PLAIN if shape == "plain" else flat_records(tmp_path)
    path = save(tmp_path / "dd", {"train": records[:2], "validation": records[2:]}, "dict")
    as_file = lambda name, rows, flag: read_squad(write(tmp_path / name, rows), flag=flag)[0]  # noqa: E731
    assert read_squad(path, flag="--train_file")[0] == as_file("t.jsonl", records[:2], "--train_file")
    assert read_squad(path, flag="--validation_file")[0] == as_file("v.jsonl", records[2:], "--validation_file")
    only = save(tmp_path / "only", {"test": records}, "dict")  # one split: whatever its name, it is the data
    assert read_squad(only, flag="--train_file")[0] == as_file("a.jsonl", records, "--train_file")
    if shape == "plain":  # rows without ids are named by their split: train and validation never collide
        assert [r["id"] for r in read_squad(path, flag="--train_file")[0]] == ["train-row1", "train-row2"]


def test_one_folder_gives_train_and_validation_their_own_cache_and_digest(tmp_path):
    """The datasets cache is keyed by the flag too: the same DatasetDict folder as both flags must not share it."""
    records = flat_records(tmp_path)
    path = save(tmp_path / "dd", {"train": records[:2], "validation": records[2:]}, "dict")
    splits, prov = load_squad(train_file=path, validation_file=path)
    assert (splits["train"]["id"], splits["validation"]["id"]) == (["row1", "row2"], ["r3"])
    assert prov["files"]["train"]["sha256"] == prov["files"]["validation"]["sha256"] == sha256_path(path)


def test_a_folder_digest_is_its_content(tmp_path):
    import shutil
    a = save(tmp_path / "a", PLAIN, "dataset")
    b = shutil.copytree(a, tmp_path / "elsewhere" / "b")
    assert sha256_path(a) == sha256_path(b) and len(sha256_path(a)) == 64
    (b / "extra.txt").write_text("x")
    assert sha256_path(a) != sha256_path(b)


def test_arrow_source_errors_are_one_line(tmp_path):
    assert "data file not found: " + str(tmp_path / "nope.parquet") + " (--train_file)" in \
        one_line_error(read_squad, str(tmp_path / "nope.parquet"), flag="--train_file")
    assert "not found" in one_line_error(load_squad, train_file=str(tmp_path / "nofolder"),
                                         validation_file=str(tmp_path / "nofolder"))
    (tmp_path / "plain_dir").mkdir()
    (tmp_path / "plain_dir" / "notes.txt").write_text("hi")
    said = one_line_error(read_squad, str(tmp_path / "plain_dir"), flag="--validation_file")
    assert "is a folder, but not one datasets' save_to_disk wrote" in said and "notes.txt" in said
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    assert "cannot be read as Parquet" in one_line_error(read_squad, str(tmp_path / "bad.parquet"))
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in ("question", "context", "answer")}),
                   tmp_path / "empty.parquet")
    assert "has no rows" in one_line_error(read_squad, str(tmp_path / "empty.parquet"))
    dd = save(tmp_path / "dd", {"train": PLAIN, "test": PLAIN}, "dict")
    said = one_line_error(read_squad, dd, flag="--validation_file")
    assert "no 'validation' split" in said and "['train', 'test']" in said and str(tmp_path / "dd" / "train") in said
