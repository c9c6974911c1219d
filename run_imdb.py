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
import logging
import time
from pathlib import Path

import numpy as np
from transformers import TrainingArguments

from bertkit.classify.arguments import DataArguments
from bertkit.classify.data import load_splits, tokenize, write_predictions
from bertkit.classify.scoring import ID2LABEL, classification_metrics
from bertkit.errors import UserError, exit_on_user_error
from bertkit.report.model_card import finish_run
from bertkit.train.attention import switch_attention
from bertkit.train.averaging import check_share, weight_average
from bertkit.train.flags import parse_flags
from bertkit.train.model_settings import CLASSIFY_KEYS, write_model_settings
from bertkit.train.modeling import (ModelArguments, check_length, load_classifier, model_provenance,
                                    quiet_tokenizer_fork_warning, resolve_model)
from bertkit.utils.banner import run_banner_for
from bertkit.utils.progress import ProgressCallback, install
from bertkit.results.record import REPO, OptionalSteps, provenance, relpath, write_essentials
from bertkit.train.runtime import (collator, interrupt_callback, resolve_runtime, resume_point, runtime_record,
                                   tokens_per_second)
from bertkit.train.trainer import BertkitTrainer

log = logging.getLogger("run_imdb")
HYPERPARAMETERS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
                   "warmup_steps", "weight_decay", "seed", "data_seed", "bf16", "fp16", "load_best_model_at_end",
                   "metric_for_best_model")
DATA_PARAMETERS = ("max_seq_length", "truncation", "max_train_samples", "max_eval_samples", "max_predict_samples",
                   "validation_size")


def predict(trainer, ds, progress: ProgressCallback, label: str):
    progress.predict_label = label  # names the progress lines of this prediction
    try:
        out = trainer.predict(ds.remove_columns(["text", "id"]))  # rows in dataset order (BertkitTrainer)
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
    timing.update(train_seconds=round(time.perf_counter() - t0, 2),
                  train_samples_per_second=tr.metrics.get("train_samples_per_second"), train_loss=tr.metrics.get("train_loss"))
    trainer.save_model()
    if trainer.is_world_process_zero():
        write_model_settings(training_args.output_dir, "text-classification", data_args, CLASSIFY_KEYS)
        (Path(training_args.output_dir) / "training_args.bin").unlink(missing_ok=True)  # a pickle; JSON has it
    timing["train_tokens_per_second"] = optional("tokens/s", tokens_per_second, tr.metrics, train_ds)


def run(trainer, progress, enc, training_args, data_args, resume, timing, optional, train_kernel=None) -> dict:
    """Baseline test accuracy, training, validation and test accuracy: the record's metrics."""
    result = {"baseline_metrics": None, "validation_metrics": None, "metrics": None}
    if training_args.do_predict:  # the same test reviews, before any training (fp32 on a CPU: BertkitTrainer)
        t0 = time.perf_counter()
        result["baseline_metrics"], _ = predict(trainer, enc["test"], progress, "baseline test")
        timing["baseline_seconds"] = round(time.perf_counter() - t0, 2)
        log.info("baseline test accuracy %.4f", result["baseline_metrics"]["accuracy"])
    if training_args.do_train:
        train(trainer, training_args, data_args, enc["train"], resume, timing, optional, train_kernel)
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
            write_predictions(Path(training_args.output_dir) / "test_predictions.csv", enc["test"], probs)
    return result


def main():
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
        splits, data_prov = load_splits(data_args, training_args.data_seed or training_args.seed)
    t_read = time.perf_counter() - t0
    model_path = resolve_model(model_args.model_name_or_path)
    tok, model = load_classifier(model_path, training_args.seed, 2, ID2LABEL, model_args.trust_remote_code,
                                 model_args.attn_implementation, model_args.model_dtype, model_args.attention_dropout)
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
    trainer = BertkitTrainer(model=model, args=training_args, processing_class=tok,
                             prediction_precision=model_args.prediction_precision,
                             data_collator=collator(tok, model_args, training_args),
                             train_dataset=enc["train"].remove_columns(["text", "id"]),
                             eval_dataset=enc["validation"].remove_columns(["text", "id"]), compute_metrics=accuracy,
                             callbacks=[interrupt_callback()] + ([weight_average(model_args.weight_average_share, resume)]
                                                                 if model_args.weight_average_share and training_args.do_train else []))
    progress = install(trainer)  # training / prediction progress with rate and time left, terminal or log
    result = run(trainer, progress, enc, training_args, data_args, resume, timing, optional,
                 model_args.train_attn_implementation)
    if trainer.is_world_process_zero():
        record(result, results, prov, model_info, data_prov, model_args, data_args, training_args, trainer, timing,
               optional)


def record(result, results, prov, model_info, data_prov, model_args, data_args, training_args, trainer, timing,
           optional):
    """The results JSON: the essentials (with model and predictions already on disk) first, then the optional parts."""
    hp = {k: getattr(training_args, k) for k in HYPERPARAMETERS}
    hp.update({k: getattr(data_args, k) for k in DATA_PARAMETERS})
    hp["weight_average_share"] = model_args.weight_average_share
    history = trainer.state.log_history
    subsets = data_args.max_train_samples or data_args.max_predict_samples
    rec = {"task": "imdb", "protocol": "imdb train/test" + (" (subsets)" if subsets else ""),
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
