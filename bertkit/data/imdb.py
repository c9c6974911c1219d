"""Labelled text tables (IMDB reviews, or any user's classes) as `datasets.Dataset`s, and stratified splits.

Files: CSV or TSV with a header, JSONL, Parquet, or a `datasets` save_to_disk folder (.gz fine for text files).
Labels: any strings or integers, or several per row (multi-label); bertkit/data/labels.py orders the classes.
Every file-level and row-level problem is one line naming the file, the line and the fix (bertkit.errors)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, Features, Sequence, Value

from ..errors import UserError, user_error_in
from .files import read_text, sha256_path
from .formats import DELIMITERS, arrow_records, is_arrow_source
from .labels import SENTIMENT, Columns, class_names, encode_labels, label_values


def _table(path: str, raw: str, delimiter: str, cols: Columns):
    reader = csv.DictReader(io.StringIO(raw, newline=""), delimiter=delimiter)  # CRLF and quoted newlines fine
    header = reader.fieldnames or []
    need = [c for c in (cols.text, cols.label, cols.text_pair) if c]
    if header and [c for c in need if c not in header]:
        other = [d for d in ",\t;|" if d != delimiter and len(header) == 1 and d in header[0]]
        if other:
            raise UserError(f"{path}: the header {header[0][:60]!r} reads as one column: the file is split by "
                            f"{other[0]!r}, not {delimiter!r}; save it as .csv with commas or .tsv with tabs")
    try:
        for row in reader:
            yield f"line {reader.line_num}", row
    except csv.Error as e:
        raise UserError(f"{path}: line {reader.line_num} is not valid CSV ({e}); save it as CSV with a "
                        f"{cols.text},{cols.label} header") from None


def _records(path: str, flag: str, split: str, cols: Columns):
    """(where, record) of each row; read_text / arrow_records give the file-level errors."""
    if is_arrow_source(path):
        yield from ((f"row {i}", r) for i, r in enumerate(arrow_records(path, flag, split), 1))
        return
    raw = read_text(path, flag)
    suffix = Path(str(path).removesuffix(".gz")).suffix.lower()
    if suffix in (".jsonl", ".json"):
        for i, line in enumerate(raw.splitlines()):
            if line.strip():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}: line {i + 1} is not JSON ({e.msg}); give one JSON object per line") from None
                if not isinstance(r, dict):
                    raise UserError(f"{path}: line {i + 1} is not a JSON object; give one {{\"text\", \"label\"}} per line")
                yield f"line {i + 1}", r
    else:
        yield from _table(path, raw, DELIMITERS.get(suffix, ","), cols)


def read_rows(path: str, cols: Columns = Columns(), flag: str = "", split: str = "train") -> list[dict]:
    """Rows {id, text, [text_pair], label: [class names], where}, checked: the columns exist, texts are not empty.
    Files are UTF-8 (a byte-order mark is fine); other encodings are refused with the line, not guessed."""
    rows, fields = [], [("text", cols.text)] + ([("text_pair", cols.text_pair)] if cols.text_pair else [])
    for where, r in _records(path, flag, split, cols):
        missing = [c for c in [c for _, c in fields] + [cols.label] if c not in r]
        if missing:
            need = " or ".join(repr(c) for c in [c for _, c in fields] + [cols.label])
            raise UserError(f"{path}: {where} has {sorted(str(k) for k in r if k)[:6]} but no {need} column "
                            f"({missing[0]!r} is missing); set --text_column/--label_column (and --text_pair_column) "
                            "to the file's column names")
        row = {"id": str(r.get("id") if r.get("id") not in (None, "") else f"{Path(path).name}:{where.split()[-1]}")}
        for key, column in fields:
            if not isinstance(r[column], str):
                raise UserError(f"{path}: {where}: {column!r} is not text")
            if not r[column].strip():
                raise UserError(f"{path}: {where}: the {column!r} text is empty; fill it in or drop the row")
            row[key] = r[column]
        rows.append({**row, "label": label_values(r[cols.label], cols, f"{path}: {where}"), "where": where})
    if not rows:
        raise UserError(f"{path}: no rows (only a header, or blank); give at least one {cols.text},{cols.label} row")
    return rows


def read_labelled(path: str, text_column="text", label_column="label", flag: str = "") -> list[dict]:
    """IMDB rows {id, text, label 0/1} (0/1, neg/pos or negative/positive; anything else is an error)."""
    cols = Columns(text_column, label_column, sentiment=True)
    return [{"id": r["id"], "text": r["text"], "label": int(SENTIMENT[r["label"][0]] == "positive")}
            for r in read_rows(path, cols, flag)]


def features(names: list[str], cols: Columns) -> Features:
    f = {"id": Value("string"), "text": Value("string")}
    if cols.text_pair:
        f["text_pair"] = Value("string")
    f["label"] = Sequence(Value("float32"), length=len(names)) if cols.multi_label else ClassLabel(names=names)
    return Features(f)


def _gen(path, sha256, spec, flag, split):  # sha256 keys the on-disk cache
    spec = json.loads(spec)  # JSON, not lists: datasets would take a list in gen_kwargs for shards
    cols = Columns(**spec["columns"])
    yield from encode_labels(read_rows(path, cols, flag, split), spec["names"], cols, path, split)


def labelled_dataset(path: str, cols: Columns = Columns(), names: list[str] | None = None, flag: str = "",
                     split: str = "train") -> tuple[Dataset, list[str]]:
    """(the file as a Dataset, its class names): validated first, so a bad file stops with one line before
    `datasets` caches it. `names`: the training data's classes (a test file's labels must be among them)."""
    rows = read_rows(path, cols, flag, split)
    names = names or class_names(rows, cols, path)
    encode_labels(rows, names, cols, path, split)  # an unknown label fails here, in one line
    try:
        return Dataset.from_generator(_gen, features=features(names, cols), gen_kwargs={
            "path": str(Path(path).resolve()), "sha256": sha256_path(path),
            "spec": json.dumps({"columns": vars(cols), "names": names}, sort_keys=True), "flag": flag,
            "split": split}), names
    except Exception as e:  # datasets wraps what the generator raises
        if (inner := user_error_in(e)) is not None:
            raise inner from None
        raise


def strata(ds: Dataset) -> np.ndarray:
    """What splits stratify on: the class id, or (multi-label) the first label a row has (-1: none)."""
    y = np.asarray(ds["label"])
    return y if y.ndim == 1 else np.where(y.any(1), y.argmax(1), -1)


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
    held = stratified_take(strata(ds), size, seed)
    rest = np.setdiff1d(np.arange(len(ds)), held)
    return ds.select(rest), ds.select(held)
