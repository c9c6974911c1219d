"""QA rows as people write them by hand: `question, context, answer` (the answer's text; empty for "no answer"),
in JSONL, CSV or TSV, with no character offsets. The offset is found in the context (exact match): a text that
is not there stops the run naming the row; one that occurs more than once takes its first occurrence, said
once for the whole file (bertkit.data.squad reads these rows beside SQuAD's own formats).
"""
from __future__ import annotations

import logging

from ..errors import UserError

log = logging.getLogger(__name__)

COLUMNS = ("question", "context", "answer")  # id and title are optional


def is_plain_row(record) -> bool:
    """A record in this shape (an `answer` text, no SQuAD `answers` with offsets)."""
    return isinstance(record, dict) and "answer" in record and "answers" not in record


def rows_from_plain(path: str, records: list[dict], split: str = "") -> list[dict]:
    """Flat SQuAD rows (answers with offsets) from `question, context, answer` records; `split` (train,
    validation) names the rows that have no id."""
    rows, repeated = [], []
    for i, r in enumerate(records, 1):
        missing = [c for c in COLUMNS if c not in r or (r[c] is None and c != "answer")]  # null answer: none
        if missing:
            raise UserError(f"{path}: row {i} lacks {', '.join(missing)}; every row needs question, context, answer "
                            "(answer empty for no answer)")
        question, context, answer = (str(r[c] if r[c] is not None else "") for c in COLUMNS)
        name = f"row {i}" + (f" (id {r['id']})" if r.get("id") not in (None, "") else "")
        if not question.strip() or not context.strip():
            raise UserError(f"{path}: {name} has an empty {'question' if not question.strip() else 'context'}; "
                            "fill it in or drop the row")
        answers = {"text": [], "answer_start": []}
        if answer.strip():
            start = context.find(answer)
            if start < 0:
                raise UserError(f"{path}: {name}: the answer {answer[:60]!r} is not in its context (exact match, "
                                "case and spaces included); copy it from the context, or leave it empty for no answer")
            if context.find(answer, start + 1) >= 0:
                repeated.append(i)
            answers = {"text": [answer], "answer_start": [start]}
        # a row without an id is named by its split too, so train and validation files without ids never collide
        rows.append({"id": str(r.get("id") or f"{split + '-' if split else ''}row{i}"), "title": str(r.get("title") or ""), "context": context,
                     "question": question, "article_index": -1, "answers": answers})
    if repeated:
        log.warning("%s: the answers of %d row(s) occur more than once in their context (first: row %d); the first "
                    "occurrence was used", path, len(repeated), repeated[0])
    return rows
