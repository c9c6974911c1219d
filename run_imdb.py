"""Fine-tune a BERT-style model for IMDB sentiment (positive / negative), offline by default.

    .venv/bin/python run_imdb.py --model_name_or_path minilm --train_file data/imdb/train.csv.gz \
        --test_file data/imdb/test.csv.gz --max_train_samples 2000 --max_predict_samples 1000 \
        --do_train --do_eval --do_predict --output_dir outputs/imdb
(data/: where bash scripts/get_data.sh imdb puts the files; `python3 -m bertkit.data.fetch --where` prints the folder used.)
Full size on one or many GPUs (bert-base-uncased, Sun et al. 2019's recipe): bash scripts/imdb_full.sh, i.e.
    .venv/bin/accelerate launch --config_file scripts/accelerate/single_gpu_bf16.yaml run_imdb.py \
        --model_name_or_path bert-base-uncased --train_file data/imdb/train.csv.gz \
        --test_file data/imdb/test.csv.gz --do_train --do_eval --do_predict --max_seq_length 512 \
        --learning_rate 2e-5 --per_device_train_batch_size 24 --num_train_epochs 4 --eval_strategy epoch \
        --save_strategy epoch --load_best_model_at_end true --metric_for_best_model accuracy --output_dir outputs/imdb_full
IMDB has no validation split: --validation_size reviews are held out of train (seeded, stratified).
--do_predict scores the test reviews before (baseline_metrics) and after fine-tuning.
"""
import csv
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from transformers import HfArgumentParser, Trainer, TrainingArguments

from bertkit.classify.encode import encode
from bertkit.classify.scoring import ID2LABEL, classification_metrics
from bertkit.data.imdb import labelled_dataset, stratified_split, stratified_take
from bertkit.errors import UserError, exit_on_user_error
from bertkit.report.model_card import write_model_card
from bertkit.train.modeling import ModelArguments, check_int8, check_length, load_classifier, model_provenance, resolve_model
from bertkit.train.progress import Progress, ProgressCallback, install, run_banner_for
from bertkit.results.record import (REPO, OptionalSteps, provenance, relpath, write_essentials, write_json_atomic,
                            write_text_atomic)
from bertkit.train.runtime import (collator, fp32_predictions, interrupt_callback, predict_in_order, resolve_runtime,
                             resume_point, runtime_record, tokens_per_second)

log = logging.getLogger("run_imdb")


@dataclass
class DataArguments:
    dataset_name: str | None = field(default=None, metadata={"help": "Hub dataset, e.g. imdb."})
    train_file: str | None = field(default=None, metadata={"help": "CSV or JSONL (.gz ok) with text and label."})
    validation_file: str | None = field(default=None, metadata={"help": "Default: held out of train."})
    test_file: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    validation_size: int = field(default=1000, metadata={"help": "Reviews held out of train when no validation file."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of validation."})
    max_predict_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of test."})
    max_seq_length: int = 256
    truncation: str = field(default="head_tail", metadata={"help": "head (first tokens) or head_tail (first+last)."})
    preprocessing_num_workers: int | None = None
    results_file: str | None = field(default=None, metadata={"help": "Default results/<output_dir name>.json."})


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
        from bertkit.data.files import sha256_file
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
    tokenisation shows its rate and time left (bertkit.train.progress). With --preprocessing_num_workers: one
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


def predict(trainer, ds, progress: ProgressCallback, label: str):
    progress.predict_label = label  # names the progress lines of this prediction
    try:
        out = predict_in_order(trainer, ds.remove_columns(["text", "id"]))
    finally:
        progress.predict_label = None
    logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return classification_metrics(ds["label"], probs.argmax(-1)), probs


def accuracy(eval_pred):
    """For the Trainer's per-epoch validation (checkpoint selection); the full metrics come from predict()."""
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    return {"accuracy": float((logits.argmax(-1) == eval_pred.label_ids).mean())}


def banner(model_info, model_path, data_args, data_prov, training_args):
    """What this run uses, in one block before the work starts."""
    counts = data_prov["counts"]
    source = data_prov.get("dataset_name") or str(Path(data_args.train_file).parent)
    run_banner_for(training_args, model_info, model_path,
                   f"IMDB ({source}): train {counts['train']['n']} / validation {counts['validation']['n']} / test "
                   f"{counts['test']['n']} reviews, {data_args.max_seq_length} tokens ({data_args.truncation})")


def main():
    model_args, data_args, training_args = HfArgumentParser(
        (ModelArguments, DataArguments, TrainingArguments)).parse_args_into_dataclasses()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    optional = OptionalSteps(log)
    prov = provenance(optional)
    if not (training_args.do_train or training_args.do_eval or training_args.do_predict):
        raise UserError("nothing to do: pass --do_train, --do_eval and/or --do_predict")
    training_args = resolve_runtime(model_args, training_args)
    check_int8(model_args, "run_imdb.py")
    results = Path(data_args.results_file or REPO / "results" / f"{Path(training_args.output_dir).resolve().name}.json")
    if results.exists():
        raise UserError(f"{results} exists; choose another --results_file or --output_dir (results are never overwritten)")
    out = Path(training_args.output_dir)
    if (out / "test_predictions.csv").exists():
        raise UserError(f"{out} already holds test_predictions.csv; choose another --output_dir")
    if training_args.do_train and not training_args.resume_from_checkpoint and any(out.glob("checkpoint-*")):
        raise UserError(f"{out} holds checkpoints; pass --resume_from_checkpoint {out} (or a checkpoint) to go on, "
                        "or choose another --output_dir")
    resume = resume_point(training_args) if training_args.do_train else None  # a bad path fails before any work
    t0 = time.perf_counter()
    with training_args.main_process_first(desc="read"):  # data before the model: a bad file fails in seconds
        splits, data_prov = load_splits(data_args, training_args.data_seed or training_args.seed)
    t_read = time.perf_counter() - t0
    model_path = resolve_model(model_args.model_name_or_path)
    tok, model = load_classifier(model_path, training_args.seed, 2, ID2LABEL, model_args.trust_remote_code,
                                 model_args.attn_implementation, model_args.model_dtype)
    check_length(data_args.max_seq_length, model)
    model_info = optional("model provenance", model_provenance, model_path, model, tok, default={"name_or_path": model_path})
    optional("banner", banner, model_info, model_path, data_args, data_prov, training_args)
    show = training_args.local_process_index == 0  # one process per machine prints progress
    t0 = time.perf_counter()
    with training_args.main_process_first(desc="tokenize"):  # one process builds the cache, the rest read it
        enc = {k: tokenize(v, k, tok, data_args, show=show) for k, v in splits.items()}
    timing = {"preprocess_seconds": round(t_read + time.perf_counter() - t0, 2)}  # read + tokenize, not the model load
    # eval_dataset + compute_metrics let --eval_strategy epoch --load_best_model_at_end --metric_for_best_model
    # accuracy keep the best epoch on validation (Sun et al. 2019's protocol; scripts/imdb_full.sh uses it).
    trainer = Trainer(model=model, args=training_args, processing_class=tok, data_collator=collator(tok, model_args, training_args),
                      train_dataset=enc["train"].remove_columns(["text", "id"]),
                      eval_dataset=enc["validation"].remove_columns(["text", "id"]), compute_metrics=accuracy,
                      callbacks=[interrupt_callback()])
    progress = install(trainer)  # training / prediction progress with rate and time left, terminal or log
    result = {"baseline_metrics": None, "validation_metrics": None, "metrics": None}
    if training_args.do_predict:  # the same test reviews, before any training
        t0 = time.perf_counter()
        restore = fp32_predictions(trainer)  # bf16 training on a CPU: the baseline is still predicted in fp32
        result["baseline_metrics"], _ = predict(trainer, enc["test"], progress, "baseline test")
        restore()
        timing["baseline_seconds"] = round(time.perf_counter() - t0, 2)
        log.info("baseline test accuracy %.4f", result["baseline_metrics"]["accuracy"])
    if training_args.do_train:
        t0 = time.perf_counter()
        tr = trainer.train(resume_from_checkpoint=resume)
        timing.update(train_seconds=round(time.perf_counter() - t0, 2),
                      train_samples_per_second=tr.metrics.get("train_samples_per_second"), train_loss=tr.metrics.get("train_loss"))
        trainer.save_model()
        fp32_predictions(trainer)  # after bf16 training on a CPU: predict in fp32, as classify.py does
        if trainer.is_world_process_zero():
            (Path(training_args.output_dir) / "training_args.bin").unlink(missing_ok=True)  # a pickle; JSON has it
        timing["train_tokens_per_second"] = optional("tokens/s", tokens_per_second, tr.metrics, enc["train"])
    if training_args.do_eval:
        result["validation_metrics"], _ = predict(trainer, enc["validation"], progress, "validation")
        log.info("validation accuracy %.4f", result["validation_metrics"]["accuracy"])
    if training_args.do_predict:
        t0 = time.perf_counter()
        result["metrics"], probs = predict(trainer, enc["test"], progress, "test")
        timing["test_seconds"] = round(time.perf_counter() - t0, 2)
        timing["test_samples_per_second"] = round(len(enc["test"]) / (time.perf_counter() - t0), 2)
        log.info("test accuracy %.4f (baseline %.4f)", result["metrics"]["accuracy"], result["baseline_metrics"]["accuracy"])
        if trainer.is_world_process_zero():
            write_predictions(out / "test_predictions.csv", enc["test"], probs)
    if not trainer.is_world_process_zero():
        return
    hp = {k: getattr(training_args, k) for k in ("learning_rate", "num_train_epochs", "per_device_train_batch_size",
                                                  "gradient_accumulation_steps", "warmup_steps", "weight_decay", "seed",
                                                  "data_seed", "bf16", "fp16", "load_best_model_at_end", "metric_for_best_model")}
    hp.update({k: getattr(data_args, k) for k in ("max_seq_length", "truncation", "max_train_samples", "max_eval_samples",
                                                   "max_predict_samples", "validation_size")})
    history = trainer.state.log_history
    record = {"task": "imdb",
              "protocol": "imdb train/test" + (" (subsets)" if data_args.max_train_samples or data_args.max_predict_samples else ""),
              "command": prov.pop("command"), "model": model_info, "data": data_prov, "hyperparameters": hp, **result,
              "output_dir": relpath(training_args.output_dir), "timing": timing,
              "loss_log": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h],
              # per-epoch validation under --eval_strategy, and which checkpoint was kept
              "validation_log": [{"epoch": h["epoch"], "accuracy": h["eval_accuracy"]} for h in history if "eval_accuracy" in h],
              "best_checkpoint": relpath(trainer.state.best_model_checkpoint) if trainer.state.best_model_checkpoint else None,
              **prov}
    write_essentials(out, record)  # model, predictions, metrics: on disk before anything optional
    record["runtime"] = optional("runtime record", runtime_record, model_args, training_args, trainer.model)
    record["warnings"] = optional.warnings
    if training_args.do_train:  # optional: the model, predictions and metrics are all on disk already
        optional("model card", write_model_card, training_args.output_dir, record)
    write_json_atomic(results, record)
    log.info("wrote %s", results)


if __name__ == "__main__":
    exit_on_user_error(main)
