"""Fine-tune a BERT-style model to classify your labelled text: any classes (strings or integers), text pairs
(--text_pair_column), several labels per text (--multi_label); offline by default. run_imdb.py is this script with
IMDB's fixed negative/positive classes. Formats, flags and checks: docs/your-data.md.

    .venv/bin/python run_classification.py --model_name_or_path minilm --train_file train.csv \
        --test_file test.csv --validation_size 100 --do_train --do_eval --do_predict --output_dir outputs/mine
    .venv/bin/python run_classification.py --model_name_or_path minilm --train_file pairs.jsonl \
        --test_file pairs_test.jsonl --text_column question --text_pair_column passage --do_train --do_predict \
        --output_dir outputs/pairs
The 35-topic task built from the SQuAD dev file (paragraphs labelled by their article): bash scripts/topics_subset.sh.
On GPUs: .venv/bin/accelerate launch --config_file scripts/accelerate/single_gpu_bf16.yaml run_classification.py ...
Without a validation file, --validation_size rows are held out of train (seeded, stratified).
--do_predict scores the test rows before (baseline_metrics) and after fine-tuning.
"""
import logging
import time
from pathlib import Path

import numpy as np
from transformers import TrainingArguments

from bertkit.classify.arguments import DataArguments
from bertkit.classify.data import load_splits, model_inputs, tokenize, write_predictions
from bertkit.classify.scoring import classification_metrics, multilabel_metrics
from bertkit.errors import UserError, exit_on_user_error
from bertkit.report.model_card import finish_run
from bertkit.train.attention import switch_attention
from bertkit.train.averaging import check_share, weight_average
from bertkit.train.flags import parse_flags
from bertkit.train.model_settings import CLASSIFY_KEYS, PAIR_KEY, write_model_settings
from bertkit.train.modeling import (ModelArguments, check_length, load_classifier, model_provenance,
                                    quiet_tokenizer_fork_warning, resolve_model)
from bertkit.utils.banner import run_banner_for
from bertkit.utils.progress import ProgressCallback, install
from bertkit.results.record import REPO, OptionalSteps, provenance, relpath, write_essentials
from bertkit.train.runtime import (collator, interrupt_callback, resolve_runtime, resume_point, runtime_record,
                                   tokens_per_second)
from bertkit.train.trainer import BertkitTrainer

log = logging.getLogger("run_classification")
# run_imdb.py is the same job with IMDB's fixed classes; what differs between the two, in one place
TASKS = {"classification": {"sentiment": False, "unit": "texts", "name": "Text classification"},
         "imdb": {"sentiment": True, "unit": "reviews", "name": "IMDB"}}
HYPERPARAMETERS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
                   "warmup_steps", "weight_decay", "seed", "data_seed", "bf16", "fp16", "load_best_model_at_end",
                   "metric_for_best_model")
DATA_PARAMETERS = ("max_seq_length", "truncation", "max_train_samples", "max_eval_samples", "max_predict_samples",
                   "validation_size", "text_pair_column", "multi_label", "label_delimiter", "multi_label_threshold")


def probabilities(logits, multi_label: bool):
    if multi_label:
        return 1 / (1 + np.exp(-logits))
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    return probs / probs.sum(-1, keepdims=True)


def predict(trainer, ds, progress: ProgressCallback, label: str, names, data_args):
    progress.predict_label = label  # names the progress lines of this prediction
    try:
        out = trainer.predict(model_inputs(ds))  # rows in dataset order (BertkitTrainer)
    finally:
        progress.predict_label = None
    logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
    probs = probabilities(logits, data_args.multi_label)
    if data_args.multi_label:
        return multilabel_metrics(ds["label"], probs >= data_args.multi_label_threshold, names), probs
    return classification_metrics(ds["label"], probs.argmax(-1), names), probs


def accuracy_metric(multi_label: bool, threshold: float):
    """For the Trainer's per-epoch validation (checkpoint selection); the full metrics come from predict().
    Multi-label: the share of texts whose whole label set is right."""
    def accuracy(eval_pred):
        logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
        if multi_label:
            right = (probabilities(logits, True) >= threshold) == (eval_pred.label_ids > 0.5)
            return {"accuracy": float(right.all(-1).mean())}
        return {"accuracy": float((logits.argmax(-1) == eval_pred.label_ids).mean())}
    return accuracy


def banner(model_info, model_path, data_args, data_prov, training_args, task, names):
    """What this run uses, in one block before the work starts."""
    counts, unit = data_prov["counts"], TASKS[task]["unit"]
    source = data_prov.get("dataset_name") or str(Path(data_args.train_file).parent)
    kind = "" if task == "imdb" else (
        f", {len(names)} classes" + (" (multi-label)" if data_args.multi_label else "") +
        (f", pairs {data_args.text_column} / {data_args.text_pair_column}" if data_args.text_pair_column else ""))
    run_banner_for(training_args, model_info, model_path,
                   f"{TASKS[task]['name']} ({source}): train {counts['train']['n']} / validation "
                   f"{counts['validation']['n']} / test {counts['test']['n']} {unit}, {data_args.max_seq_length} tokens "
                   f"({data_args.truncation}){kind}")


def check_outputs(data_args, training_args) -> Path:
    """Refuse before any work what would overwrite an earlier run; returns the results JSON's path."""
    if not (training_args.do_train or training_args.do_eval or training_args.do_predict):
        raise UserError("nothing to do: pass --do_train, --do_eval and/or --do_predict")
    results = Path(data_args.results_file or REPO / "results" / f"{Path(training_args.output_dir).resolve().name}.json")
    if results.exists():
        raise UserError(f"{results} exists; choose another --results_file or --output_dir (results are never overwritten)")
    out = Path(training_args.output_dir)
    if (out / "test_predictions.csv").exists():
        raise UserError(f"{out} already holds test_predictions.csv; choose another --output_dir")
    if training_args.do_train and not training_args.resume_from_checkpoint and any(out.glob("checkpoint-*")):
        raise UserError(f"{out} holds checkpoints; pass --resume_from_checkpoint {out} (or a checkpoint) to go on, "
                        "or choose another --output_dir")
    return results


def train(trainer, training_args, data_args, train_ds, resume, timing, optional, train_kernel=None):
    """Train and save the model with its settings (classify.py reads them). Training runs the attention kernel
    `train_kernel` (--train_attn_implementation) where given; predictions and the saved model, the model's own."""
    t0 = time.perf_counter()
    own = switch_attention(trainer.model, train_kernel)
    tr = trainer.train(resume_from_checkpoint=resume)
    switch_attention(trainer.model, own)
    timing.update(resumed_from_checkpoint=resume, train_seconds=round(time.perf_counter() - t0, 2),
                  train_samples_per_second=tr.metrics.get("train_samples_per_second"), train_loss=tr.metrics.get("train_loss"))
    trainer.save_model()
    if trainer.is_world_process_zero():
        write_model_settings(training_args.output_dir, "text-classification", data_args, CLASSIFY_KEYS + (PAIR_KEY,))
        (Path(training_args.output_dir) / "training_args.bin").unlink(missing_ok=True)  # a pickle; JSON has it
    timing["train_tokens_per_second"] = optional("tokens/s", tokens_per_second, tr.metrics, train_ds)


def run(trainer, progress, enc, names, training_args, data_args, resume, timing, optional, train_kernel=None) -> dict:
    """Baseline test metrics, training, validation and test metrics: the record's metrics."""
    result = {"baseline_metrics": None, "validation_metrics": None, "metrics": None}
    if training_args.do_predict:  # the same test reviews, before any training (fp32 on a CPU: BertkitTrainer)
        t0 = time.perf_counter()
        result["baseline_metrics"], _ = predict(trainer, enc["test"], progress, "baseline test", names, data_args)
        timing["baseline_seconds"] = round(time.perf_counter() - t0, 2)
        log.info("baseline test accuracy %.4f", result["baseline_metrics"]["accuracy"])
    if training_args.do_train:
        train(trainer, training_args, data_args, enc["train"], resume, timing, optional, train_kernel)
    if training_args.do_eval:
        result["validation_metrics"], _ = predict(trainer, enc["validation"], progress, "validation", names, data_args)
        log.info("validation accuracy %.4f", result["validation_metrics"]["accuracy"])
    if training_args.do_predict:
        t0 = time.perf_counter()
        result["metrics"], probs = predict(trainer, enc["test"], progress, "test", names, data_args)
        timing["test_seconds"] = round(time.perf_counter() - t0, 2)
        timing["test_samples_per_second"] = round(len(enc["test"]) / (time.perf_counter() - t0), 2)
        log.info("test accuracy %.4f (baseline %.4f)", result["metrics"]["accuracy"], result["baseline_metrics"]["accuracy"])
        if trainer.is_world_process_zero():
            write_predictions(Path(training_args.output_dir) / "test_predictions.csv", enc["test"], probs, names,
                              data_args.multi_label, data_args.multi_label_threshold)
    return result


def main(task: str = "classification"):
    """`task`: classification (any labels) or imdb (run_imdb.py: the fixed negative/positive classes)."""
    quiet_tokenizer_fork_warning()
    model_args, data_args, training_args = parse_flags((ModelArguments, DataArguments, TrainingArguments))
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    optional = OptionalSteps(log)
    prov = provenance(optional)
    results = check_outputs(data_args, training_args)
    check_share(model_args.weight_average_share, training_args.load_best_model_at_end)
    if model_args.answerability_head_weight is not None:
        raise UserError("--answerability_head_weight is a SQuAD flag (run_squad.py); leave it out here")
    training_args = resolve_runtime(model_args, training_args)
    resume = resume_point(training_args) if training_args.do_train else None  # a bad path fails before any work
    t0 = time.perf_counter()
    with training_args.main_process_first(desc="read"):  # data before the model: a bad file fails in seconds
        splits, names, data_prov = load_splits(data_args, training_args.data_seed or training_args.seed,
                                               TASKS[task]["sentiment"], task_script(task))
    t_read = time.perf_counter() - t0
    model_path = resolve_model(model_args.model_name_or_path)
    tok, model = load_classifier(model_path, training_args.seed, len(names), dict(enumerate(names)),
                                 model_args.trust_remote_code, model_args.attn_implementation, model_args.model_dtype,
                                 model_args.attention_dropout,
                                 "multi_label_classification" if data_args.multi_label else "single_label_classification")
    check_length(data_args.max_seq_length, model)
    model_info = optional("model provenance", model_provenance, model_path, model, tok, default={"name_or_path": model_path})
    optional("banner", banner, model_info, model_path, data_args, data_prov, training_args, task, names)
    show = training_args.local_process_index == 0  # one process per machine prints progress
    t0 = time.perf_counter()
    with training_args.main_process_first(desc="tokenize"):  # one process builds the cache, the rest read it
        enc = {k: tokenize(v, k, tok, data_args, show=show, unit=TASKS[task]["unit"]) for k, v in splits.items()}
    timing = {"preprocess_seconds": round(t_read + time.perf_counter() - t0, 2)}  # read + tokenize, not the model load
    # eval_dataset + compute_metrics let --eval_strategy epoch --load_best_model_at_end --metric_for_best_model
    # accuracy keep the best epoch on validation (Sun et al. 2019's protocol; scripts/imdb_full.sh uses it).
    trainer = BertkitTrainer(model=model, args=training_args, processing_class=tok,
                             prediction_precision=model_args.prediction_precision,
                             data_collator=collator(tok, model_args, training_args),
                             train_dataset=model_inputs(enc["train"]), eval_dataset=model_inputs(enc["validation"]),
                             compute_metrics=accuracy_metric(data_args.multi_label, data_args.multi_label_threshold),
                             callbacks=[interrupt_callback()] + ([weight_average(model_args.weight_average_share, resume)]
                                                                 if model_args.weight_average_share and training_args.do_train else []))
    progress = install(trainer)  # training / prediction progress with rate and time left, terminal or log
    result = run(trainer, progress, enc, names, training_args, data_args, resume, timing, optional,
                 model_args.train_attn_implementation)
    if trainer.is_world_process_zero():
        record(task, result, results, prov, model_info, data_prov, model_args, data_args, training_args, trainer,
               timing, optional)


def task_script(task: str) -> str:
    return "run_imdb.py" if task == "imdb" else "run_classification.py"


def protocol(task, data_args, data_prov) -> str:
    subsets = " (subsets)" if data_args.max_train_samples or data_args.max_predict_samples else ""
    if task == "imdb":
        return "imdb train/test" + subsets
    made = (data_prov.get("built_by") or {}).get("protocol")  # a task built by bertkit.data.tasks says what it is
    return (made or ("hub " + data_prov["dataset_name"] if data_prov.get("dataset_name") else "your files")) + subsets


def record(task, result, results, prov, model_info, data_prov, model_args, data_args, training_args, trainer,
           timing, optional):
    """The results JSON: the essentials (with model and predictions already on disk) first, then the optional parts."""
    hp = {k: getattr(training_args, k) for k in HYPERPARAMETERS}
    hp.update({k: getattr(data_args, k) for k in DATA_PARAMETERS})
    hp["weight_average_share"] = model_args.weight_average_share
    history = trainer.state.log_history
    rec = {"task": task, "protocol": protocol(task, data_args, data_prov),
           "command": prov.pop("command"), "model": model_info, "data": data_prov, "hyperparameters": hp, **result,
           "output_dir": relpath(training_args.output_dir), "timing": timing,
           "loss_log": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h],
           # per-epoch validation under --eval_strategy, and which checkpoint was kept
           "validation_log": [{"epoch": h["epoch"], "accuracy": h["eval_accuracy"]} for h in history if "eval_accuracy" in h],
           "weight_average": next((c.averaged for c in trainer.callback_handler.callbacks if hasattr(c, "averaged")), None),
           "best_checkpoint": relpath(trainer.state.best_model_checkpoint) if trainer.state.best_model_checkpoint else None,
           **prov}
    write_essentials(Path(training_args.output_dir), rec)  # model, predictions, metrics: on disk before anything optional
    rec["runtime"] = optional("runtime record", runtime_record, model_args, training_args, trainer.model)
    rec["warnings"] = optional.warnings
    finish_run(rec, results, training_args.output_dir, training_args.do_train, optional, log)


if __name__ == "__main__":
    exit_on_user_error(main)
