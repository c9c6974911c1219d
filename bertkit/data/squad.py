"""Load SQuAD-style data into flat `datasets.Dataset`s in the hub's squad_v2 schema.

Sources: the hub (`--dataset_name squad_v2`), official nested SQuAD JSON (`.json`/`.json.gz`), flat JSONL
(`id, title, context, question, answers{text, answer_start}`), rows without offsets (`question, context, answer`
in JSONL, CSV, TSV), and either row shape in a Parquet file or a save_to_disk folder (a DatasetDict's split is
the flag's: --train_file takes train, --validation_file validation).
The offline protocol "dev-split" carves train/eval from the official dev file by article
(see ../shared/data/README.md), because no full SQuAD train set exists offline.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from datasets import Dataset, Features, Sequence, Value

from ..errors import UserError, user_error_in
from .files import read_text, sha256_of, sha256_path
from .formats import DELIMITERS, arrow_records, check_source, is_arrow_source, json_records, table_records
from .qa_rows import is_plain_row, rows_from_plain

OFFICIAL_QUESTIONS = {"train": 130_319, "validation": 11_873}  # train-v2.0.json, dev-v2.0.json
DEV_SPLIT = {"train_articles": (0, 24), "eval_articles": (25, 34)}  # inclusive, in file order
FLAG_SPLITS = {"--train_file": "train", "--validation_file": "validation"}  # a DatasetDict folder's split per flag

SQUAD_FEATURES = Features({
    "id": Value("string"), "title": Value("string"), "context": Value("string"),
    "question": Value("string"), "article_index": Value("int32"),
    "answers": {"text": Sequence(Value("string")), "answer_start": Sequence(Value("int32"))},
})


def _nested_rows(path: str, obj: dict) -> list[dict]:
    """Rows of official nested SQuAD JSON, checking each level and naming the place of what is missing."""
    data = obj["data"]
    if not isinstance(data, list) or not data:
        raise UserError(f"{path}: 'data' is {'empty' if isinstance(data, list) else 'not a list'}: no articles; "
                        "give official SQuAD JSON ({'data': [{'title', 'paragraphs': [...]}]})")
    rows = []
    for a, article in enumerate(data):
        title = article.get("title", "") if isinstance(article, dict) else ""
        place = f"article {a} ({title!r})" if title else f"article {a}"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise UserError(f"{path}: {place} has no 'paragraphs' list; each article needs "
                            "{'title', 'paragraphs': [{'context', 'qas'}]}")
        for p, para in enumerate(article["paragraphs"]):
            for key, kind in (("context", str), ("qas", list)):
                if not isinstance(para, dict) or not isinstance(para.get(key), kind):
                    raise UserError(f"{path}: {place} paragraph {p} has no '{key}' "
                                    f"{'text' if kind is str else 'list'}; each paragraph needs 'context' and 'qas'")
            for q, qa in enumerate(para["qas"]):
                if not isinstance(qa, dict) or not qa.get("id"):
                    raise UserError(f"{path}: {place} paragraph {p} question {q} has no 'id'; every question "
                                    "needs a unique id")
                qid = qa["id"]
                if not isinstance(qa.get("question"), str):
                    raise UserError(f"{path}: question {qid} ({place}) has no 'question' text; add it or remove "
                                    "the question")
                impossible = qa.get("is_impossible")
                if not impossible and not isinstance(qa.get("answers"), list):
                    raise UserError(f"{path}: question {qid} ({place}) has no 'answers' list; add its answers, or "
                                    "\"is_impossible\": true if it has none")
                answers = [] if impossible else qa["answers"]
                if impossible is False and not answers:
                    raise UserError(f"{path}: question {qid} ({place}) has \"is_impossible\": false but no "
                                    "answers; add its answer, or set \"is_impossible\": true")
                if any(not isinstance(x, dict) or "text" not in x or "answer_start" not in x for x in answers):
                    raise UserError(f"{path}: question {qid} ({place}): each answer needs 'text' and 'answer_start'")
                rows.append({"id": str(qid), "title": title, "context": para["context"], "question": qa["question"],
                             "article_index": a, "answers": {"text": [x["text"] for x in answers],
                                                             "answer_start": [_offset(x["answer_start"]) for x in answers]}})
    return rows


def _flat_rows(path: str, records: list) -> list[dict]:
    rows = []
    for i, r in enumerate(records, 1):
        missing = sorted({"id", "context", "question", "answers"} - set(r)) if isinstance(r, dict) else ["all"]
        ans = r.get("answers") if isinstance(r, dict) else None
        if missing or not (isinstance(ans, dict) and isinstance(ans.get("text"), list)
                           and isinstance(ans.get("answer_start"), list) and len(ans["text"]) == len(ans["answer_start"])):
            raise UserError(f"{path}: record {i} {'lacks ' + str(missing) if missing else 'has malformed answers'}; "
                            "each line needs id, title, context, question, answers{text: [...], answer_start: [...]}")
        rows.append({"id": str(r["id"]), "title": r.get("title", ""), "context": r["context"],
                     "question": r["question"], "article_index": int(r.get("article_index", -1)),
                     "answers": {"text": list(ans["text"]), "answer_start": [_offset(s) for s in ans["answer_start"]]}})
    return rows


def _offset(v):
    """answer_start as an int when it is one in any spelling ("24", 24.0); else as given, for bad_answer to name."""
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def bad_answer(row: dict) -> str | None:
    """Why a row's answers cannot be trained or scored as given (None when they are fine)."""
    ctx = row["context"]
    for t, s in zip(row["answers"]["text"], row["answers"]["answer_start"]):
        if not isinstance(s, int) or isinstance(s, bool) or not isinstance(t, str) or not t:
            return f"answer {t!r} at {s!r} is not text at an integer offset"
        if not 0 <= s < len(ctx):
            return f"answer_start {s} is outside its context ({len(ctx)} characters)"
        if ctx[s:s + len(t)] != t:
            return f"answer_start {s} does not point at {t!r} (the context there reads {ctx[s:s + len(t)]!r})"
    return None


def read_squad(path: str, skip_bad_answers: bool = False, flag: str = "") -> tuple[list[dict], int]:
    """Parse official nested JSON, flat JSONL, or question/context/answer rows without offsets (JSONL, CSV, TSV:
    bertkit/data/qa_rows.py), or either row shape from Parquet / a save_to_disk folder, into flat rows,
    validated: (rows, questions skipped).

    A question whose answer_start does not point at its answer text stops the run, naming the question;
    with skip_bad_answers it is left out and counted instead."""
    suffix = Path(str(path).removesuffix(".gz")).suffix.lower()
    if is_arrow_source(path) or Path(path).is_dir():  # a folder that is not one gets arrow_records' line
        obj, records = None, arrow_records(path, flag, FLAG_SPLITS.get(flag, "validation"))
    elif suffix in DELIMITERS:
        obj, records = None, table_records(path, read_text(path, flag), suffix)
    else:
        obj, records = json_records(path, read_text(path, flag))
    if records is None:
        rows = _nested_rows(path, obj)
    elif records and is_plain_row(records[0]):
        rows = rows_from_plain(path, records, FLAG_SPLITS.get(flag, ""))
    else:
        rows = _flat_rows(path, records)
    if not rows:
        raise UserError(f"{path}: no questions in it; give a file with at least one question")
    kept = []
    for r in rows:
        why = bad_answer(r)
        if why and not skip_bad_answers:
            raise UserError(f"{path}: question {r['id']}: {why}; fix the answer offsets in the data, or pass "
                            "--skip_bad_answers to leave such questions out")
        if not why:
            kept.append(r)
    if not kept:
        raise UserError(f"{path}: all {len(rows)} questions have bad answer offsets; fix the data")
    seen, dups = set(), []
    for r in kept:
        (dups.append(r["id"]) if r["id"] in seen else seen.add(r["id"]))
    if dups:
        raise UserError(f"{path}: {len(dups)} question id(s) used twice (first: {dups[0]!r}); every question needs "
                        "its own id")
    return kept, len(rows) - len(kept)


def read_squad_rows(path: str, skip_bad_answers: bool = False) -> list[dict]:
    return read_squad(path, skip_bad_answers)[0]


def _gen(path: str, sha256: str, skip_bad_answers: bool, flag: str):
    # sha256 in the cache fingerprint: a changed file is re-read; flag too, as it picks a DatasetDict folder's split
    yield from read_squad(path, skip_bad_answers, flag)[0]


def squad_file_dataset(path: str, skip_bad_answers: bool = False, flag: str = "", info: dict | None = None) -> Dataset:
    """Flat Dataset of a local file or folder, cached on disk by (path, sha256, flag) so later .map calls cache too.

    The file is validated here first, so a bad file stops with one line before `datasets` writes a cache;
    `info` (if given) receives the number of questions skipped for bad answer offsets."""
    _, skipped = read_squad(path, skip_bad_answers, flag)
    if info is not None:
        info["skipped_bad_answers"] = skipped
    try:
        return Dataset.from_generator(_gen, features=SQUAD_FEATURES, gen_kwargs={
            "path": str(Path(path).resolve()), "sha256": sha256_path(path), "skip_bad_answers": skip_bad_answers,
            "flag": flag})
    except Exception as e:  # datasets wraps what the generator raises
        if (inner := user_error_in(e)) is not None:
            raise inner from None
        raise


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
        n_ans = min(len(ans), total - n_un)
        if n_ans < total - n_un and max_unanswerable_fraction < 1:
            # too few answerable questions to fill the subset: the share is of what is kept, not of the pool
            n_un = min(n_un, int(np.floor(n_ans * max_unanswerable_fraction / (1 - max_unanswerable_fraction) + 1e-9)))
        order = np.concatenate([ans[:n_ans], unans[:n_un]])
    return ds.select(np.sort(order))  # file order: reproducible, and Trainer shuffles for training anyway


def hold_out_groups(keys, n: int, seed: int, whole: bool) -> tuple[list[int], list[int]]:
    """(question indices to calibrate on, every index of their groups): whole groups (articles or paragraphs, one
    key per question) drawn in a seeded order until they hold n questions. whole: calibrate on every question of
    the drawn groups; else on n of them (the last group's others are held out too, unused). Either way none of
    the drawn groups' questions is trained on."""
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    groups = list(by_key.values())
    picked: list[int] = []
    for g in np.random.default_rng([seed, 1]).permutation(len(groups)):
        if len(picked) >= n:
            break
        picked += groups[g]
    return sorted(picked if whole else picked[:n]), sorted(picked)


def counts(ds: Dataset) -> dict:
    n_ans = sum(1 for a in ds["answers"] if a["text"])
    return {"n_examples": len(ds), "n_answerable": n_ans, "n_unanswerable": len(ds) - n_ans}


def _hub_split(ds) -> dict:
    """A hub split's rows and the sha256 of its Arrow files, through Dataset.cache_files (public: the
    fingerprint is a private attribute), so that its JSON names the exact data, as for a local file."""
    files = [Path(f["filename"]) for f in ds.cache_files]
    return {"n_rows": ds.num_rows, "arrow_sha256": [sha256_of(f)[1] for f in files]}


def load_squad(dataset_name=None, dataset_config_name=None, train_file=None, validation_file=None,
               protocol=None, need_train=True, skip_bad_answers=False, need_eval=True):
    """Return ({'train': Dataset|None, 'validation': Dataset|None}, provenance dict). Without need_eval a
    --train_file alone is enough (train now, evaluate the saved model later)."""
    for flag, path in (("--train_file", train_file), ("--validation_file", validation_file)):
        if path and not Path(path).is_file():
            check_source(path, flag)  # raises the one-line error: missing, or a folder save_to_disk did not write
    info_t, info_v = {}, {}  # questions left out for bad answer offsets (--skip_bad_answers)
    if protocol == "dev-split":
        if train_file:
            raise UserError("--protocol dev-split trains on dev articles 0-24; drop --train_file or the protocol")
        if not validation_file:
            raise UserError("--protocol dev-split needs --validation_file pointing at the official dev-v2.0.json(.gz)")
        full = squad_file_dataset(validation_file, skip_bad_answers, "--validation_file", info_v)
        if max(full["article_index"]) < DEV_SPLIT["eval_articles"][1]:
            raise UserError(f"{validation_file}: dev-split needs the official nested dev file (35 articles)")
        splits = {"train": select_articles(full, *DEV_SPLIT["train_articles"]) if need_train else None,
                  "validation": select_articles(full, *DEV_SPLIT["eval_articles"])}
        prov = {"source": "local", "protocol": "dev-split",
                "protocol_note": "train = dev articles 0-24, eval = dev articles 25-34; NOT comparable to "
                                 "published SQuAD 2.0 dev numbers",
                "files": {"validation": {"path": validation_file, "sha256": sha256_path(validation_file)}}}
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
                "splits": {k: _hub_split(v) for k, v in splits.items() if v is not None}}
    else:
        if need_train and not train_file:
            raise UserError("training needs data: pass --train_file, --dataset_name squad_v2, or --protocol dev-split")
        if not validation_file and need_eval:
            raise UserError("evaluation needs --validation_file (or --dataset_name / --protocol dev-split); to train "
                            "only, drop --do_eval")
        splits = {"train": squad_file_dataset(train_file, skip_bad_answers, "--train_file", info_t) if need_train else None,
                  "validation": squad_file_dataset(validation_file, skip_bad_answers, "--validation_file", info_v)
                  if validation_file else None}
        if splits["train"] is not None and splits["validation"] is not None:
            both = set(splits["train"]["id"]) & set(splits["validation"]["id"])
            if both:
                raise UserError(f"{len(both)} question id(s) are in both --train_file {train_file} and "
                                f"--validation_file {validation_file} (e.g. {sorted(both)[0]!r}): the evaluation would "
                                "score questions the model trained on; remove them from one file")
        official = (splits["validation"] is not None and len(splits["validation"]) == OFFICIAL_QUESTIONS["validation"] and
                    (splits["train"] is None or len(splits["train"]) == OFFICIAL_QUESTIONS["train"]))
        prov = {"source": "local", "protocol": "official" if official else "custom-files",
                **({"protocol_note": "local copies of the official SQuAD 2.0 files (question counts match)"} if official else {}),
                "files": {k: {"path": p, "sha256": sha256_path(p)}
                          for k, p in (("train", train_file if need_train else None), ("validation", validation_file)) if p}}
    if info_t.get("skipped_bad_answers") or info_v.get("skipped_bad_answers"):
        prov["skipped_bad_answers"] = {"train": info_t.get("skipped_bad_answers"),
                                       "validation": info_v.get("skipped_bad_answers")}
    return splits, prov
