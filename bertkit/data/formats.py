"""A data source as records, before any task's checks: official nested JSON (the object itself), JSONL or a JSON
list (records), CSV/TSV with a header (records), and the Arrow sources (records): a Parquet file or a folder
written by `datasets`' save_to_disk (a Dataset, or a DatasetDict whose split is picked). bertkit.data.squad turns
them into validated QA rows; the Arrow reader is shared with the classification data."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import UserError
from .files import hint_for
from .qa_rows import COLUMNS

DELIMITERS = {".csv": ",", ".tsv": "\t"}
DATASET_FILES = ("dataset_info.json", "state.json")  # what save_to_disk writes for a Dataset (load_from_disk needs both)
DATASET_DICT_FILE = "dataset_dict.json"  # ... and for a DatasetDict, beside one such folder per split


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


def _saved_kind(p: Path) -> str | None:
    """'dataset' or 'dict' for a folder save_to_disk wrote, else None."""
    if (p / DATASET_DICT_FILE).is_file():
        return "dict"
    return "dataset" if any((p / n).is_file() for n in DATASET_FILES) else None


def is_arrow_source(path) -> bool:
    """A Parquet file (by its name: a missing one still reads as Parquet, so its error says so) or a folder that
    datasets' save_to_disk wrote."""
    p = Path(path)
    return p.name.lower().endswith(".parquet") or (p.is_dir() and _saved_kind(p) is not None)


def check_source(path, flag: str = "") -> None:
    """The one line for a path no reader can take: it does not exist, or it is a folder save_to_disk did not
    write. Nothing is read, so this runs before anything slow."""
    p, where = Path(path), f" ({flag})" if flag else ""
    if not p.exists():
        raise UserError(f"data file not found: {path}{where}; pass the right path{hint_for(path)}")
    if p.is_dir() and not is_arrow_source(p):
        inside = sorted(x.name for x in p.iterdir())[:5]
        raise UserError(f"{path}{where} is a folder, but not one datasets' save_to_disk wrote (no "
                        f"{' + '.join(DATASET_FILES)}, no {DATASET_DICT_FILE}; it holds {inside or 'nothing'}); pass a "
                        "data file (.json, .jsonl, .csv, .tsv, .parquet) or a folder written by Dataset.save_to_disk")


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else 'no message'}"


def _parquet_records(path: str, where: str) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError, ValueError) as e:  # ArrowInvalid for bad bytes, OSError for unreadable
        raise UserError(f"{path}{where} cannot be read as Parquet ({_first_line(e)}); write it again (e.g. "
                        "DataFrame.to_parquet or Dataset.to_parquet) or pass the data in another format") from None


def _saved_records(path: str, where: str, split: str | None) -> list[dict]:
    from datasets import DatasetDict, load_from_disk
    try:
        ds = load_from_disk(path)
    except Exception as e:  # a damaged folder fails in json, pyarrow or fsspec: every one is the same fix
        raise UserError(f"{path}{where}: datasets.load_from_disk cannot read this folder ({_first_line(e)}); save "
                        "it again with save_to_disk") from None
    if isinstance(ds, DatasetDict):
        names = list(ds.keys())
        if split in names:
            ds = ds[split]
        elif len(names) == 1:
            ds = ds[names[0]]
        else:
            want = f"no {split!r} split" if split else "no split chosen"
            example = str(Path(path) / (names[0] if names else "<split>"))
            raise UserError(f"{path}{where} is a DatasetDict with {want} (its splits: {names}); point at one "
                            f"split's folder, e.g. {example}")
    return ds.to_list()


def arrow_records(path: str, flag: str = "", split: str | None = None) -> list[dict]:
    """The rows of a Parquet file or a save_to_disk folder as plain python dicts. A DatasetDict folder gives its
    `split` (the caller's, from its flag), or its only split when it has just one."""
    check_source(path, flag)
    where = f" ({flag})" if flag else ""
    p = Path(path)
    if p.is_dir() and _saved_kind(p) is not None:
        records = _saved_records(str(path), where, split)
    else:  # a .parquet file, or a folder of Parquet parts named *.parquet (as Spark writes them)
        records = _parquet_records(str(path), where)
    if not records:
        raise UserError(f"{path}{where} has no rows (0 in it); pass data with at least one row")
    return records
