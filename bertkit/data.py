"""Load SQuAD-style data into flat `datasets.Dataset`s in the hub's squad_v2 schema.

Sources: the hub (`--dataset_name squad_v2`), official nested SQuAD JSON (`.json`/`.json.gz`),
or flat JSONL (`id, title, context, question, answers{text, answer_start}`).
The offline protocol "dev-split" carves train/eval from the official dev file by article
(see ../shared/data/README.md), because no full SQuAD train set exists offline.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np
from datasets import Dataset, Features, Sequence, Value

from .datafiles import hint_for
from .errors import UserError

OFFICIAL_QUESTIONS = {"train": 130_319, "validation": 11_873}  # train-v2.0.json, dev-v2.0.json
DEV_SPLIT = {"train_articles": (0, 24), "eval_articles": (25, 34)}  # inclusive, in file order

SQUAD_FEATURES = Features({
    "id": Value("string"), "title": Value("string"), "context": Value("string"),
    "question": Value("string"), "article_index": Value("int32"),
    "answers": {"text": Sequence(Value("string")), "answer_start": Sequence(Value("int32"))},
})


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _open_text(path: str):
    return gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(path, encoding="utf-8")


def read_squad_rows(path: str) -> list[dict]:
    """Parse official nested JSON or flat JSONL into flat rows; one clear error on bad input."""
    if not Path(path).is_file():
        raise UserError(f"data file not found: {path} (pass the right --train_file/--validation_file){hint_for(path)}")
    with _open_text(path) as f:
        text = f.read()
    try:
        obj = json.loads(text)
        records = None if isinstance(obj, dict) and "data" in obj else ([obj] if isinstance(obj, dict) else obj)
    except json.JSONDecodeError:
        obj = None
        try:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise UserError(f"{path}: neither official SQuAD JSON nor JSONL ({e}); "
                            "give nested SQuAD JSON with a 'data' list or one JSON object per line") from None
    rows = []
    if records is None:  # official nested format
        for a, article in enumerate(obj["data"]):
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                    rows.append({"id": qa["id"], "title": article.get("title", ""), "context": para["context"],
                                 "question": qa["question"], "article_index": a,
                                 "answers": {"text": [x["text"] for x in answers],
                                             "answer_start": [int(x["answer_start"]) for x in answers]}})
    else:
        for i, r in enumerate(records):
            missing = {"id", "context", "question", "answers"} - set(r)
            if missing:
                raise UserError(f"{path}: record {i} lacks {sorted(missing)}; each line needs "
                                "id, title, context, question, answers{{text, answer_start}}")
            rows.append({"id": str(r["id"]), "title": r.get("title", ""), "context": r["context"],
                         "question": r["question"], "article_index": int(r.get("article_index", -1)),
                         "answers": {"text": list(r["answers"]["text"]),
                                     "answer_start": [int(s) for s in r["answers"]["answer_start"]]}})
    for r in rows:
        for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"]):
            if r["context"][s:s + len(t)] != t:
                raise UserError(f"{path}: question {r['id']}: answer_start {s} does not point at {t!r}; "
                                "fix the answer offsets in the data")
    if len({r["id"] for r in rows}) != len(rows):
        raise UserError(f"{path}: question ids are not unique; every question needs its own id")
    return rows


def _gen(path: str, sha256: str):  # sha256 is part of the cache fingerprint: a changed file is re-read
    yield from read_squad_rows(path)


def squad_file_dataset(path: str) -> Dataset:
    """Flat Dataset of a local file, cached on disk by (path, sha256) so later .map calls cache too."""
    return Dataset.from_generator(_gen, gen_kwargs={"path": str(Path(path).resolve()), "sha256": sha256_file(path)},
                                  features=SQUAD_FEATURES)


def select_articles(ds: Dataset, first: int, last: int) -> Dataset:
    idx = np.flatnonzero((np.asarray(ds["article_index"]) >= first) & (np.asarray(ds["article_index"]) <= last))
    return ds.select(idx)


def limit_questions(ds: Dataset, max_samples: int | None, seed: int, max_unanswerable_fraction: float | None = None):
    """Seeded random subset of whole questions (features are built after this, so no question is cut in half).

    `max_unanswerable_fraction` drops unanswerable questions until they are at most that share: on small
    budgets a model otherwise learns the cheap "no answer" prior before it learns spans.
    """
    if max_samples is None and max_unanswerable_fraction is None:
        return ds
    order = np.random.default_rng(seed).permutation(len(ds))
    if max_unanswerable_fraction is None:
        order = order[:max_samples]
    else:
        has = np.array([len(a["text"]) > 0 for a in ds["answers"]], dtype=bool)[order]
        ans, unans = order[has], order[~has]
        total = len(order) if max_samples is None else min(max_samples, len(order))
        n_un = min(len(unans), int(round(total * max_unanswerable_fraction)))
        order = np.concatenate([ans[:total - n_un], unans[:n_un]])
    return ds.select(np.sort(order))  # file order: reproducible, and Trainer shuffles for training anyway


def counts(ds: Dataset) -> dict:
    n_ans = sum(1 for a in ds["answers"] if a["text"])
    return {"n_examples": len(ds), "n_answerable": n_ans, "n_unanswerable": len(ds) - n_ans}


def load_squad(dataset_name=None, dataset_config_name=None, train_file=None, validation_file=None,
               protocol=None, need_train=True):
    """Return ({'train': Dataset|None, 'validation': Dataset}, provenance dict)."""
    for flag, path in (("--train_file", train_file), ("--validation_file", validation_file)):
        if path and not Path(path).is_file():
            raise UserError(f"data file not found: {path} ({flag}); pass the right path{hint_for(path)}")
    if protocol == "dev-split":
        if train_file:
            raise UserError("--protocol dev-split trains on dev articles 0-24; drop --train_file or the protocol")
        if not validation_file:
            raise UserError("--protocol dev-split needs --validation_file pointing at the official dev-v2.0.json(.gz)")
        full = squad_file_dataset(validation_file)
        if max(full["article_index"]) < DEV_SPLIT["eval_articles"][1]:
            raise UserError(f"{validation_file}: dev-split needs the official nested dev file (35 articles)")
        splits = {"train": select_articles(full, *DEV_SPLIT["train_articles"]) if need_train else None,
                  "validation": select_articles(full, *DEV_SPLIT["eval_articles"])}
        prov = {"source": "local", "protocol": "dev-split",
                "protocol_note": "train = dev articles 0-24, eval = dev articles 25-34; NOT comparable to "
                                 "published SQuAD 2.0 dev numbers",
                "files": {"validation": {"path": validation_file, "sha256": sha256_file(validation_file)}}}
    elif dataset_name:
        from datasets import load_dataset
        try:
            raw = load_dataset(dataset_name, dataset_config_name)
        except Exception as e:  # the hub is unreachable offline
            raise UserError(f"could not load dataset {dataset_name!r} from the hub ({type(e).__name__}; HF_HUB_OFFLINE="
                            f"{os.environ.get('HF_HUB_OFFLINE', 'unset')}); with network set HF_HUB_OFFLINE=0, offline use "
                            "--train_file/--validation_file or --protocol dev-split --validation_file "
                            "../shared/data/squad_v2/dev-v2.0.json.gz") from None
        splits = {"train": raw["train"] if need_train else None, "validation": raw["validation"]}
        prov = {"source": "hub", "protocol": "official" if dataset_name == "squad_v2" else "custom",
                "dataset_name": dataset_name, "dataset_config_name": dataset_config_name,
                "fingerprints": {k: v._fingerprint for k, v in splits.items() if v is not None}}
    else:
        if need_train and not train_file:
            raise UserError("training needs data: pass --train_file, --dataset_name squad_v2, or --protocol dev-split")
        if not validation_file:
            raise UserError("evaluation needs --validation_file (or --dataset_name / --protocol dev-split)")
        splits = {"train": squad_file_dataset(train_file) if need_train else None,
                  "validation": squad_file_dataset(validation_file)}
        official = (len(splits["validation"]) == OFFICIAL_QUESTIONS["validation"] and
                    (splits["train"] is None or len(splits["train"]) == OFFICIAL_QUESTIONS["train"]))
        prov = {"source": "local", "protocol": "official" if official else "custom-files",
                **({"protocol_note": "local copies of the official SQuAD 2.0 files (question counts match)"} if official else {}),
                "files": {k: {"path": p, "sha256": sha256_file(p)}
                          for k, p in (("train", train_file if need_train else None), ("validation", validation_file)) if p}}
    return splits, prov
