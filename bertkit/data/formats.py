"""A QA file's text as records, before any SQuAD checks: official nested JSON (the object itself), JSONL or a JSON
list (records), CSV/TSV with a header (records). bertkit.data.squad turns them into validated rows."""
from __future__ import annotations

import csv
import io
import json

from ..errors import UserError
from .qa_rows import COLUMNS

DELIMITERS = {".csv": ",", ".tsv": "\t"}


def json_records(path: str, text: str):
    """(the nested object, None) for official SQuAD JSON; (None, records) for JSONL / a JSON list or record."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}: neither official SQuAD JSON nor JSONL (line {n}: {e.msg}); give nested "
                                    "SQuAD JSON with a 'data' list or one JSON object per line") from None
        return None, records
    if isinstance(obj, dict) and "data" in obj:
        return obj, None
    if isinstance(obj, dict) and "context" in obj:
        return None, [obj]
    if isinstance(obj, list):
        return None, obj
    keys = sorted(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
    raise UserError(f"{path}: not SQuAD data: the top level has no 'data' list (found {keys}); give "
                    "official SQuAD JSON ({'data': [...]}) or JSONL (one question per line)")


def table_records(path: str, text: str, suffix: str) -> list[dict]:
    """The rows of a CSV/TSV file with a header naming at least question, context and answer."""
    delimiter = DELIMITERS[suffix]
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        one = len(header) == 1 and any(d in header[0] for d in DELIMITERS.values())
        hint = "; its header reads as one column: check the delimiter (.csv: commas, .tsv: tabs)" if one else ""
        raise UserError(f"{path}: the header has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} "
                        f"(found {header}){hint}; give a header with question, context, answer (id, title optional)")
    return list(reader)
