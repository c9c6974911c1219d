"""Labelled text for run_classification.py / run_imdb.py: the splits (a held-out validation set where there is no
file), their classes, tokenisation with progress, the predictions file. Its flags: bertkit/classify/arguments.py."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..data.imdb import labelled_dataset, stratified_split, stratified_take, strata
from ..data.labels import Columns
from ..data.tasks import MANIFEST
from ..errors import UserError
from ..results.record import write_text_atomic
from ..utils.progress import Progress
from .arguments import DataArguments
from .encode import encode

SPLIT_FLAGS = {"train": "--train_file", "validation": "--validation_file", "test": "--test_file"}


def columns(a: DataArguments, sentiment: bool) -> Columns:
    return Columns(a.text_column, a.label_column, a.text_pair_column, a.label_delimiter if a.multi_label else None,
                   sentiment)


def _hub(a: DataArguments, cols: Columns, script: str):
    """The hub dataset's train/validation/test splits as files would give them (labels by their names)."""
    from datasets import ClassLabel, Dataset, load_dataset
    try:
        raw = load_dataset(a.dataset_name, a.dataset_config_name)
    except Exception as e:
        raise UserError(f"could not load {a.dataset_name!r} from the hub ({type(e).__name__}: the hub cannot be "
                        f"reached, or no such dataset); offline pass files: {script} --train_file F --test_file F "
                        "(CSV, TSV, JSONL, Parquet or a save_to_disk folder; docs/your-data.md)") from None
    if "train" not in raw or "test" not in raw:
        raise UserError(f"{a.dataset_name!r} has splits {sorted(raw)}, not train and test; pass files instead")
    from ..data.labels import class_names, encode_labels, label_values
    from ..data.imdb import features
    out, names = {}, None
    for split in ("train", "validation", "test"):
        if split not in raw:
            continue
        ds, feat = raw[split], raw[split].features.get(cols.label)
        missing = [c for c in (cols.text, cols.text_pair, cols.label) if c and c not in ds.column_names]
        if missing:
            raise UserError(f"{a.dataset_name!r} {split} has columns {ds.column_names} but no {missing[0]!r}; set "
                            "--text_column/--label_column (and --text_pair_column) to its column names")
        inner = getattr(feat, "feature", None)  # a multi-label column: a list of ClassLabel ids
        cl = None if cols.sentiment else feat if isinstance(feat, ClassLabel) else inner if isinstance(
            inner, ClassLabel) else None
        rows = []
        for i, r in enumerate(ds):
            value = r[cols.label]
            if cl is not None:  # the hub's names, not its ids
                value = [cl.int2str(v) for v in value] if isinstance(value, list) else cl.int2str(value)
            rows.append({"id": str(r.get("id", f"{split}:{i}")), "text": r[cols.text],
                         **({"text_pair": r[cols.text_pair]} if cols.text_pair else {}),
                         "label": label_values(value, cols, f"{a.dataset_name} {split} row {i}"), "where": f"row {i}"})
        if names is None:
            names = cl.names if cl is not None else class_names(rows, cols, a.dataset_name)
        out[split] = Dataset.from_list(encode_labels(rows, names, cols, a.dataset_name, split), features=features(names, cols))
    return out, names, {"source": "hub", "dataset_name": a.dataset_name, "dataset_config_name": a.dataset_config_name}


def _files(a: DataArguments, cols: Columns, script: str):
    if not a.train_file or not a.test_file:
        raise UserError(f"pass --train_file and --test_file (or --dataset_name with the hub); e.g. {script} "
                        "--train_file train.csv --test_file test.csv")
    out, names = {}, None
    for split, path in (("train", a.train_file), ("test", a.test_file), ("validation", a.validation_file)):
        if path:
            out[split], names = labelled_dataset(path, cols, names, SPLIT_FLAGS[split], split)
    from ..data.files import sha256_path
    prov = {"source": "local", "files": {k: {"path": p, "sha256": sha256_path(p)} for k, p in
                                         (("train", a.train_file), ("test", a.test_file),
                                          ("validation", a.validation_file)) if p}}
    made = Path(a.train_file).parent / MANIFEST  # files built by bertkit.data.tasks: how, from what
    if made.is_file():
        prov["built_by"] = json.loads(made.read_text(encoding="utf-8"))
    return out, names, prov


def load_splits(a: DataArguments, seed: int, sentiment: bool = False, script: str = "run_classification.py"):
    """({train, validation, test}, provenance with the class names and counts). `sentiment`: run_imdb.py's
    fixed negative/positive classes."""
    for name in ("max_train_samples", "max_eval_samples", "max_predict_samples", "validation_size"):
        v = getattr(a, name)
        if v is not None and v < 1 and not (name == "validation_size" and a.validation_file):
            raise UserError(f"--{name} {v}: give a positive number of rows (or leave it out for the default)")
    if a.multi_label and sentiment:
        raise UserError("--multi_label: run_imdb.py is single-label sentiment; use run_classification.py")
    if not 0 < a.multi_label_threshold < 1:
        raise UserError(f"--multi_label_threshold {a.multi_label_threshold}: give a probability between 0 and 1")
    cols = columns(a, sentiment)
    raw, names, prov = (_hub if a.dataset_name else _files)(a, cols, script)
    train, test, val = raw["train"], raw["test"], raw.get("validation")
    if val is None:
        if a.validation_size >= len(train):
            raise UserError(f"--validation_size {a.validation_size} holds out every one of the {len(train)} training "
                            "rows; lower it or pass --validation_file")
        train, val = stratified_split(train, a.validation_size, seed)
        prov["validation"] = f"{a.validation_size} rows held out of train (stratified, seed {seed})"
    take = lambda ds, n: ds.select(stratified_take(strata(ds), n, seed))  # noqa: E731
    splits = {"train": take(train, a.max_train_samples), "validation": take(val, a.max_eval_samples),
              "test": take(test, a.max_predict_samples)}
    for k, flag in (("train", "--max_train_samples"), ("validation", "--max_eval_samples / --validation_size"),
                    ("test", "--max_predict_samples")):
        if len(splits[k]) == 0:
            raise UserError(f"no {k} rows left after {flag}; give a positive number (or leave it out for all)")
    prov["labels"] = {"names": names, "multi_label": a.multi_label,
                      "order": "fixed: negative, positive" if sentiment else
                      "the training data's labels, integers in numeric order, else sorted as text"}
    prov["columns"] = {"text": a.text_column, "text_pair": a.text_pair_column, "label": a.label_column}
    prov["counts"] = {k: counts(v, names) for k, v in splits.items()}
    return splits, names, prov


def counts(ds, names) -> dict:
    """Rows per split and per class (IMDB's records keep their `positive` count)."""
    y = np.asarray(ds["label"])
    per = y.sum(0) if y.ndim == 2 else np.bincount(y, minlength=len(names))
    out = {"n": len(ds), "per_class": {n: int(c) for n, c in zip(names, per)}}
    if names == ["negative", "positive"]:
        out["positive"] = int(per[1])
    return out


def model_inputs(ds):
    """The dataset without its text columns (the Trainer takes token ids and the label)."""
    return ds.remove_columns([c for c in ("text", "text_pair", "id") if c in ds.column_names])


def write_predictions(path, ds, probs, names, multi_label: bool, threshold: float):
    """id, true label(s), predicted label(s), the probability of the predicted class (multi-label: of each label
    predicted); labels by name, several joined by '|'."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "label", "predicted", "probability"])
    for i, (row_id, label) in enumerate(zip(ds["id"], ds["label"])):
        if multi_label:
            on = np.flatnonzero(probs[i] >= threshold)
            w.writerow([row_id, "|".join(names[j] for j, v in enumerate(label) if v > 0.5),
                        "|".join(names[j] for j in on), "|".join(f"{probs[i][j]:.6f}" for j in on)])
        else:
            w.writerow([row_id, names[label], names[int(probs[i].argmax())], f"{probs[i].max():.6f}"])
    write_text_atomic(path, buf.getvalue())


def tokenize(ds, name, tok, data_args, show=True, unit="texts"):
    """Token ids for a split, in chunks of >= 1000 rows (about 20 for the full set), so that a long
    tokenisation shows its rate and time left (bertkit.utils.progress). With --preprocessing_num_workers: one
    datasets.map over the workers, with datasets' own progress bar."""
    kw = dict(batched=True, fn_kwargs=dict(tokenizer=tok, max_seq_length=data_args.max_seq_length,
                                           truncation=data_args.truncation))
    if data_args.preprocessing_num_workers:
        return ds.map(encode, num_proc=data_args.preprocessing_num_workers, desc=f"Tokenize {name}", **kw)
    from datasets import concatenate_datasets
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled
    step = max(1000, -(-len(ds) // 20))
    bar, parts, was_on = Progress(f"tokenize {name}", len(ds), unit, enabled=show), [], is_progress_bar_enabled()
    disable_progress_bar()  # a datasets bar per chunk would drown the one line that matters
    try:
        for start in range(0, len(ds), step):
            parts.append(ds.select(range(start, min(start + step, len(ds)))).map(encode, **kw))
            bar.update(start + len(parts[-1]))
    finally:
        bar.close()
        if was_on:
            enable_progress_bar()
    return concatenate_datasets(parts)
