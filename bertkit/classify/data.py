"""IMDB-style labelled text for run_imdb.py: the splits (a held-out validation set where there is no file),
tokenisation with progress, the predictions file. Its flags: bertkit/classify/arguments.py."""
from __future__ import annotations

import csv
import io

import numpy as np

from ..data.imdb import labelled_dataset, stratified_split, stratified_take
from ..errors import UserError
from ..results.record import write_text_atomic
from ..utils.progress import Progress
from .arguments import DataArguments
from .encode import encode


def load_splits(a: DataArguments, seed: int):
    for name in ("max_train_samples", "max_eval_samples", "max_predict_samples", "validation_size"):
        v = getattr(a, name)
        if v is not None and v < 1 and not (name == "validation_size" and a.validation_file):
            raise UserError(f"--{name} {v}: give a positive number of reviews (or leave it out for the default)")
    if a.dataset_name:
        from datasets import load_dataset
        try:
            raw = load_dataset(a.dataset_name)
        except Exception as e:
            raise UserError(f"could not load {a.dataset_name!r} from the hub ({type(e).__name__}); offline use "
                            "--train_file/--test_file data/imdb/{train,test}.csv.gz") from None
        train, test, val = raw["train"], raw["test"], None
        prov = {"source": "hub", "dataset_name": a.dataset_name}
    else:
        if not a.train_file or not a.test_file:
            raise UserError("pass --train_file and --test_file (or --dataset_name imdb)")
        train, test = (labelled_dataset(p, a.text_column, a.label_column, flag)
                       for p, flag in ((a.train_file, "--train_file"), (a.test_file, "--test_file")))
        val = (labelled_dataset(a.validation_file, a.text_column, a.label_column, "--validation_file")
               if a.validation_file else None)
        files = {"train": a.train_file, "test": a.test_file, "validation": a.validation_file}
        from ..data.files import sha256_file
        prov = {"source": "local", "files": {k: {"path": p, "sha256": sha256_file(p)} for k, p in files.items() if p}}
    if val is None:
        if a.validation_size >= len(train):
            raise UserError(f"--validation_size {a.validation_size} holds out every one of the {len(train)} training "
                            "reviews; lower it or pass --validation_file")
        train, val = stratified_split(train, a.validation_size, seed)
        prov["validation"] = f"{a.validation_size} reviews held out of train (stratified, seed {seed})"
    take = lambda ds, n: ds.select(stratified_take(ds["label"], n, seed))  # noqa: E731
    splits = {"train": take(train, a.max_train_samples), "validation": take(val, a.max_eval_samples),
              "test": take(test, a.max_predict_samples)}
    for k, flag in (("train", "--max_train_samples"), ("validation", "--max_eval_samples / --validation_size"),
                    ("test", "--max_predict_samples")):
        if len(splits[k]) == 0:
            raise UserError(f"no {k} reviews left after {flag}; give a positive number (or leave it out for all)")
    prov["counts"] = {k: {"n": len(v), "positive": int(np.sum(v["label"]))} for k, v in splits.items()}
    return splits, prov


def write_predictions(path, ds, probs):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "label", "predicted", "probability"])
    for i, (row_id, label) in enumerate(zip(ds["id"], ds["label"])):
        w.writerow([row_id, label, int(probs[i].argmax()), f"{probs[i].max():.6f}"])
    write_text_atomic(path, buf.getvalue())


def tokenize(ds, name, tok, data_args, show=True):
    """Token ids for a split, in chunks of >= 1000 reviews (about 20 for the full set), so that a long
    tokenisation shows its rate and time left (bertkit.utils.progress). With --preprocessing_num_workers: one
    datasets.map over the workers, with datasets' own progress bar."""
    kw = dict(batched=True, fn_kwargs=dict(tokenizer=tok, max_seq_length=data_args.max_seq_length,
                                           truncation=data_args.truncation))
    if data_args.preprocessing_num_workers:
        return ds.map(encode, num_proc=data_args.preprocessing_num_workers, desc=f"Tokenize {name}", **kw)
    from datasets import concatenate_datasets
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled
    step = max(1000, -(-len(ds) // 20))
    bar, parts, was_on = Progress(f"tokenize {name}", len(ds), "reviews", enabled=show), [], is_progress_bar_enabled()
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
