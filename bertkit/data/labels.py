"""Class names of labelled text: which classes a training file holds, in a stable, recorded order, and each row's
label as a class id (single-label) or a 0/1 vector (multi-label). IMDB's sentiment spellings keep their fixed
classes (negative, positive) so run_imdb.py's models and records read as they always have."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError

SENTIMENT = {"0": "negative", "1": "positive", "neg": "negative", "pos": "positive", "negative": "negative",
             "positive": "positive"}
SENTIMENT_NAMES = ["negative", "positive"]  # class ids 0 and 1


@dataclass(frozen=True)
class Columns:
    """Where a file's fields are, and how its labels are written."""
    text: str = "text"
    label: str = "label"
    text_pair: str | None = None  # a second text (premise/hypothesis, question/passage)
    label_delimiter: str | None = None  # set: multi-label, several labels in one cell split on it
    sentiment: bool = False  # labels are 0/1, neg/pos or negative/positive (run_imdb.py)

    @property
    def multi_label(self) -> bool:
        return self.label_delimiter is not None


def label_values(value, cols: Columns, where: str) -> list[str]:
    """A cell's label(s) as class-name strings; one error line for an empty or (IMDB) unknown label."""
    if cols.multi_label:
        parts = value if isinstance(value, list) else str(value if value is not None else "").split(cols.label_delimiter)
        return sorted({str(v).strip() for v in parts if str(v).strip()})  # no labels at all is a valid multi-label row
    text = "" if value is None else str(value).strip()
    if not text:
        raise UserError(f"{where}: the label is empty; fill it in or drop the row")
    if cols.sentiment:
        if text.lower() not in SENTIMENT:
            raise UserError(f"{where}: label {value!r} is not 0/1, neg/pos or negative/positive; run_imdb.py is "
                            "sentiment only: use run_classification.py for other labels")
        return [SENTIMENT[text.lower()]]
    return [text]


def class_names(rows: list[dict], cols: Columns, path: str) -> list[str]:
    """The classes of a training file: IMDB's fixed two, else every label seen, integers in numeric order and
    anything else sorted as text, so the same file always gives the same class ids."""
    if cols.sentiment:
        return list(SENTIMENT_NAMES)
    seen = {v for r in rows for v in r["label"]}
    names = sorted(seen, key=int) if all(v.lstrip("-").isdigit() for v in seen) else sorted(seen)
    if len(names) < 2 and not (cols.multi_label and names):
        what = f"one class ({names[0]!r})" if names else "no labels"
        raise UserError(f"{path}: the label column {cols.label!r} holds {what}; a classifier needs at least two "
                        "classes: check --label_column, or the file")
    return names


def encode_labels(rows: list[dict], names: list[str], cols: Columns, path: str, split: str) -> list[dict]:
    """Rows with `label` as a class id (or a 0/1 vector); a label the training file lacks is one error line."""
    ids = {n: i for i, n in enumerate(names)}
    out = []
    for r in rows:
        unknown = [v for v in r["label"] if v not in ids]
        if unknown:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise UserError(f"{path}: {r['where']}: label {unknown[0]!r} is not one of the {len(names)} classes of the "
                            f"training data ({shown}); fix the {split} row, or add training rows with that label")
        label = [1.0 if n in r["label"] else 0.0 for n in names] if cols.multi_label else ids[r["label"][0]]
        out.append({**{k: v for k, v in r.items() if k != "where"}, "label": label})
    return out
