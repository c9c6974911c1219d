import gzip
import json

import pytest

from bertkit.data import squad as D
from bertkit.errors import UserError


def test_dev_split_protocol_counts(dev_file):
    splits, prov = D.load_squad(validation_file=dev_file, protocol="dev-split")
    tr, ev = splits["train"], splits["validation"]
    assert (len(tr), len(ev)) == (8017, 3856)  # ../shared/data/README.md
    assert tr[0]["title"] == "Normans" and tr[len(tr) - 1]["title"] == "Yuan_dynasty"
    assert ev[0]["title"] == "Immune_system" and ev[len(ev) - 1]["title"] == "Force"
    assert not set(tr["title"]) & set(ev["title"])
    assert prov["protocol"] == "dev-split" and "NOT comparable" in prov["protocol_note"]
    assert prov["files"]["validation"]["sha256"] == "c64fe26c35acdc15eec216f26c513dd7299a0a443d228be26b11abad943b3a1e"


def test_official_json_is_flattened_to_hub_schema(dev_file):
    rows = D.read_squad_rows(dev_file)
    assert len(rows) == 11873
    first = rows[0]
    assert first["id"] == "56ddde6b9a695914005b9628" and first["question"] == "In what country is Normandy located?"
    assert first["answers"]["text"][0] == "France" and first["answers"]["answer_start"][0] == 159
    assert sum(1 for r in rows if not r["answers"]["text"]) == 5945  # plausible_answers are not answers


def test_jsonl_and_json_roundtrip(tmp_path, dev_file):
    rows = D.read_squad_rows(dev_file)[:50]
    p = tmp_path / "x.jsonl"
    p.write_text("".join(json.dumps({k: r[k] for k in ("id", "title", "context", "question", "answers")}) + "\n" for r in rows))
    back = D.read_squad_rows(str(p))
    assert [r["id"] for r in back] == [r["id"] for r in rows] and back[3]["answers"] == rows[3]["answers"]
    ds = D.squad_file_dataset(str(p))
    assert len(ds) == 50 and ds[0]["answers"]["text"] == rows[0]["answers"]["text"]


def test_limit_questions_is_seeded_and_whole(dev_file):
    splits, _ = D.load_squad(validation_file=dev_file, protocol="dev-split")
    tr = splits["train"]
    a, b = D.limit_questions(tr, 300, seed=1), D.limit_questions(tr, 300, seed=1)
    assert a["id"] == b["id"] and len(set(a["id"])) == 300
    assert a["id"] != D.limit_questions(tr, 300, seed=2)["id"]
    capped = D.limit_questions(tr, 400, seed=1, max_unanswerable_fraction=0.25)
    c = D.counts(capped)
    assert c["n_examples"] == 400 and c["n_unanswerable"] == 100
    only_ans = D.limit_questions(tr, None, seed=1, max_unanswerable_fraction=0.0)
    assert D.counts(only_ans)["n_unanswerable"] == 0 and len(only_ans) == 3977
    # the whole pool under a cap: too few answerable questions to fill it, so the share is of what is kept
    # (it once was of the pool: 20 % of 8,017 = 1,603 unanswerable beside 3,977 answerable, 28.7 %)
    c = D.counts(D.limit_questions(tr, None, seed=1, max_unanswerable_fraction=0.2))
    assert c["n_answerable"] == 3977 and c["n_unanswerable"] == 994 and c["n_unanswerable"] / c["n_examples"] <= 0.2


@pytest.mark.parametrize("content,needle", [
    ("not json at all {", "neither official SQuAD JSON nor JSONL"),
    ('{"id": "1", "context": "abc", "question": "q"}\n', "lacks ['answers']"),
    ('{"id": "1", "context": "abc", "question": "q", "answers": {"text": ["bc"], "answer_start": [0]}}\n',
     "does not point at"),
])
def test_bad_input_gives_one_clear_error(tmp_path, content, needle):
    p = tmp_path / "bad.jsonl.gz"
    with gzip.open(p, "wt") as f:
        f.write(content)
    with pytest.raises(UserError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        D.read_squad_rows(str(p))


def test_missing_file_and_bad_protocol_use(tmp_path, dev_file):
    with pytest.raises(UserError, match="not found"):
        D.read_squad_rows(str(tmp_path / "nope.json"))
    with pytest.raises(UserError, match="drop --train_file"):
        D.load_squad(train_file=dev_file, validation_file=dev_file, protocol="dev-split")


def test_hub_dataset_is_named_by_rows_and_sha256(dev_file, tmp_path, monkeypatch):
    """The hub path (unreachable here: load_dataset stood in by a saved DatasetDict) records each split by its rows
    and the sha256 of its Arrow files, as a local file is recorded by its sha256."""
    import hashlib

    import datasets
    rows = D.read_squad_rows(dev_file)
    saved = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:6]),
                                  "validation": datasets.Dataset.from_list(rows[6:10])})
    saved.save_to_disk(tmp_path / "hub")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.load_from_disk(str(tmp_path / "hub")))
    splits, prov = D.load_squad(dataset_name="squad_v2")
    assert prov["source"] == "hub" and prov["protocol"] == "official" and len(splits["validation"]) == 4
    arrow = sorted((tmp_path / "hub" / "train").glob("*.arrow"))
    assert prov["splits"]["train"] == {"n_rows": 6, "arrow_sha256": [hashlib.sha256(p.read_bytes()).hexdigest()
                                                                      for p in arrow]}
