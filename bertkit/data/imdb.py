"""IMDB-style text/label tables (CSV with a header, or JSONL) as `datasets.Dataset`s, and stratified splits.

Labels may be 0/1, neg/pos or negative/positive; every file-level and row-level problem is one line naming the
file, the line and the fix (bertkit.errors)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, Features, Value

from ..errors import UserError, user_error_in
from .files import read_text, sha256_file

LABEL_NAMES = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
FEATURES = Features({"id": Value("string"), "text": Value("string"), "label": ClassLabel(names=["negative", "positive"])})


def _records(path: str, flag: str = ""):
    """(line number, record) of a CSV (header first) or JSONL file; read_text gives the file-level errors."""
    raw = read_text(path, flag)
    if ".jsonl" in path or ".json" in path:
        for i, line in enumerate(raw.splitlines()):
            if line.strip():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}: line {i + 1} is not JSON ({e.msg}); give one JSON object per line") from None
                if not isinstance(r, dict):
                    raise UserError(f"{path}: line {i + 1} is not a JSON object; give one {{\"text\", \"label\"}} per line")
                yield i + 1, r
    else:
        reader = csv.DictReader(io.StringIO(raw, newline=""))  # CRLF line ends and quoted newlines both fine
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as e:
            raise UserError(f"{path}: line {reader.line_num} is not valid CSV ({e}); save it as CSV with a "
                            "text,label header") from None


def read_labelled(path: str, text_column="text", label_column="label", flag: str = "") -> list[dict]:
    """Rows {id, text, label 0/1}; labels 0/1 or neg/pos/negative/positive, anything else is an error.
    Files are UTF-8 (a byte-order mark is fine); other encodings are refused with the line, not guessed."""
    rows = []
    for line, r in _records(path, flag):
        if text_column not in r or label_column not in r:
            raise UserError(f"{path}: line {line} has {sorted(k for k in r if k)[:6]} but no {text_column!r} or "
                            f"{label_column!r} column; set --text_column/--label_column to the file's column names")
        if not isinstance(r[text_column], str):
            raise UserError(f"{path}: line {line}: {text_column!r} is not text")
        value = str(r[label_column]).strip().lower()
        if value not in LABEL_NAMES:
            raise UserError(f"{path}: line {line}: label {r[label_column]!r} is not 0/1, neg/pos or negative/positive")
        rows.append({"id": str(r.get("id", f"{Path(path).name}:{line}")), "text": r[text_column],
                     "label": LABEL_NAMES[value]})
    if not rows:
        raise UserError(f"{path}: no rows (only a header, or blank); give at least one {text_column},{label_column} row")
    return rows


def _gen(path, sha256, text_column, label_column):  # sha256 keys the on-disk cache
    yield from read_labelled(path, text_column, label_column)


def labelled_dataset(path: str, text_column="text", label_column="label", flag: str = "") -> Dataset:
    """The file as a Dataset, validated first so a bad file stops with one line before `datasets` caches it."""
    read_labelled(path, text_column, label_column, flag)
    try:
        return Dataset.from_generator(_gen, features=FEATURES, gen_kwargs={
            "path": str(Path(path).resolve()), "sha256": sha256_file(path), "text_column": text_column,
            "label_column": label_column})
    except Exception as e:  # datasets wraps what the generator raises
        if (inner := user_error_in(e)) is not None:
            raise inner from None
        raise


def stratified_take(labels, n: int | None, seed: int) -> np.ndarray:
    """Seeded indices of n rows with the class shares of `labels` (IMDB files are sorted by label)."""
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    want = np.floor(counts / len(labels) * n).astype(int)
    want[np.argsort(-(counts / len(labels) * n - want))[: n - want.sum()]] += 1  # largest remainders
    picked = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, want)]
    return np.sort(np.concatenate(picked))


def stratified_split(ds: Dataset, size: int, seed: int):
    """(rest, held_out) with `size` rows held out, stratified by label."""
    held = stratified_take(ds["label"], size, seed)
    rest = np.setdiff1d(np.arange(len(ds)), held)
    return ds.select(rest), ds.select(held)
