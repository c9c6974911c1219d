"""Fine-tune and evaluate a BERT-style model for SQuAD 2.0 extractive QA (with unanswerable questions).

Offline (the default protocol here: train on dev articles 0-24, evaluate on 25-34; NOT official numbers):
    .venv/bin/python run_squad.py --protocol dev-split --validation_file data/squad_v2/dev-v2.0.json.gz \
        --model_name_or_path minilm --do_train --do_eval --output_dir outputs/squad_devsplit
(data/: where bash scripts/get_data.sh puts the files; `python3 -m bertkit.data.fetch --where` prints the folder used.)
Full SQuAD 2.0 on one or many GPUs (bert-base-uncased, the published recipe): bash scripts/finetune_full.sh, i.e.
    .venv/bin/accelerate launch --config_file scripts/accelerate/single_gpu_bf16.yaml run_squad.py \
        --model_name_or_path bert-base-uncased --dataset_name squad_v2 --do_train --do_eval --learning_rate 3e-5 \
        --num_train_epochs 2 --per_device_train_batch_size 24 --warmup_steps 0.1 --train_sampling_strategy group_by_length \
        --dataloader_num_workers 4 --output_dir outputs/squad_v2_bert_base
--null_score_diff_threshold auto: the no-answer threshold that maximises F1 on --calibration_samples training-side
questions held out of training, saved as <output_dir>/qa_threshold.json (ask.py uses it).
Resume: the same command plus --resume_from_checkpoint outputs/squad_v2_bert_base (or a checkpoint-N folder).
Writes predictions.json, nbest_predictions.json, null_odds.json, nonnull_predictions.json to --output_dir and
a results JSON (metrics + provenance) to results/.
"""
import json
import logging
import time
from pathlib import Path

from transformers import TrainingArguments

from bertkit.qa import arguments as A
from bertkit.qa import steps as S
from bertkit.errors import UserError, exit_on_user_error
from bertkit.report.model_card import finish_run
from bertkit.qa.evaluation import ask_demo, ask_robustness, load_model
from bertkit.train.modeling import ModelArguments, quiet_tokenizer_fork_warning, resolve_model
from bertkit.train.optim import freeze, head_rate_optimizer
from bertkit.utils.banner import run_banner_for, training_levers
from bertkit.utils.progress import install
from bertkit.results.record import OptionalSteps, provenance, relpath, write_essentials, write_json_atomic
from bertkit.qa.trainer import QuestionAnsweringTrainer
from bertkit.train.answerability import attach, saved_apart
from bertkit.train.attention import switch_attention
from bertkit.train.averaging import check_share, weight_average
from bertkit.train.flags import parse_flags
from bertkit.train.model_settings import QA_KEYS, write_model_settings
from bertkit.train.runtime import (collator, interrupt_callback, resolve_runtime, resume_point, runtime_record,
                                   step_clock, tokens_per_second)

log = logging.getLogger("run_squad")


def parse_args():
    return parse_flags((ModelArguments, A.DataArguments, TrainingArguments))


def check_flags(training_args):
    """Combinations that cannot run, refused before any work."""
    if not (training_args.do_train or training_args.do_eval):
        raise UserError("nothing to do: pass --do_train and/or --do_eval")
    if training_args.eval_strategy != "no" and not training_args.do_eval:  # a str enum
        raise UserError(f"--eval_strategy {training_args.eval_strategy.value} scores the eval questions during "
                        "training: add --do_eval (and --validation_file or --dataset_name)")


def load_baseline(data_args):
    if not data_args.baseline_results:
        return None
    if not Path(data_args.baseline_results).is_file():
        raise UserError(f"--baseline_results {data_args.baseline_results} not found; run run_baseline.py first")
    return json.loads(Path(data_args.baseline_results).read_text())


def threshold_to_use(model_args, data_args, training_args):
    """The no-answer threshold: a number, or auto = calibrated after training on held-out training-side questions
    (evaluating a saved model: the threshold saved with it, else calibrated on the training side's questions).
    None: calibrate (and, after training, save) even without --do_eval."""
    setting = A.threshold_setting(data_args)
    if setting != "auto":
        return {"value": setting, "method": "given"}
    if not training_args.do_train:
        saved = A.saved_threshold(resolve_model(model_args.model_name_or_path))
        if saved:
            return {**saved, "method": "saved", "file": A.THRESHOLD_FILE}
    return None


def build_trainer(model_args, data_args, training_args, model, tokenizer, train_feats, eval_examples, eval_feats,
                  threshold, resume=None):
    callbacks = [interrupt_callback(), step_clock()]
    if training_args.do_train:
        freeze(model, model_args)
        if model_args.weight_average_share:
            callbacks.append(weight_average(model_args.weight_average_share, resume))
    given = threshold["value"] if threshold else 0.0  # evaluations during training: no calibrated value yet
    trainer = QuestionAnsweringTrainer(
        model=model, args=training_args, data_collator=collator(tokenizer, model_args, training_args),
        processing_class=tokenizer, train_dataset=train_feats, eval_dataset=eval_feats, eval_examples=eval_examples,
        data_args=data_args, eval_threshold=given, answerability_weight=model_args.answerability_head_weight, sort_eval_by_length=data_args.sort_eval_by_length,
        prediction_precision=model_args.prediction_precision, callbacks=callbacks)
    if model_args.head_learning_rate is not None and training_args.do_train:
        trainer.optimizer = head_rate_optimizer(trainer, model_args.head_learning_rate)
    return trainer


def train(trainer, training_args, data_args, train_feats, resume, timing, optional, prediction_kernel=None):
    """Train, save the model and its settings; returns the loss and eval logs. The saved model (the best
    checkpoint's under --load_best_model_at_end) is what ask.py loads; it predicts with `prediction_kernel` where
    training ran another attention kernel (--train_attn_implementation)."""
    t0 = time.perf_counter()
    timing["resumed_from_checkpoint"] = resume
    tr = trainer.train(resume_from_checkpoint=resume)
    switch_attention(trainer.model, prediction_kernel)
    timing["train_seconds"] = round(time.perf_counter() - t0, 2)
    timing["train_samples_per_second"] = tr.metrics.get("train_samples_per_second")
    timing["train_loss"] = tr.metrics.get("train_loss")
    with saved_apart(trainer.model, training_args.output_dir, trainer.is_world_process_zero()):  # a plain model folder; an answerability head beside it
        trainer.save_model()  # model + tokenizer in output_dir: ask.py and --model_name_or_path take it
    if trainer.is_world_process_zero():
        write_model_settings(training_args.output_dir, "squad_v2", data_args, QA_KEYS)  # ask.py and serve use them
        # Trainer also pickles TrainingArguments there; the results JSON holds them, so drop the pickle.
        (Path(training_args.output_dir) / "training_args.bin").unlink(missing_ok=True)
    timing["train_tokens_per_second"] = optional("tokens/s", tokens_per_second, tr.metrics, train_feats)
    history = trainer.state.log_history
    clock = next((c.seconds for c in trainer.callback_handler.callbacks if hasattr(c, "seconds")), {})
    averaged = next((c.averaged for c in trainer.callback_handler.callbacks if hasattr(c, "averaged")), None)
    return {"weight_average": averaged,
            "loss_log": [{"step": h["step"], "loss": h["loss"], "seconds": clock.get(h["step"])}
                         for h in history if "loss" in h],
            # --eval_strategy steps|epoch: the eval questions' scores during training (threshold: eval_threshold)
            "eval_log": [{"step": h["step"], "exact": h["eval_exact"], "f1": h["eval_f1"]} for h in history
                         if "eval_f1" in h]}


def calibrate_and_evaluate(trainer, progress, questions, eval_examples, eval_feats, data_args, training_args,
                           threshold, timing):
    """Calibrate the threshold where asked (saved with a trained model), then evaluate: (threshold, metrics)."""
    if threshold is None:
        progress.predict_label = "calibration"
        threshold = S.calibrate(trainer, questions, data_args, out_dir=training_args.output_dir)
        timing["calibration_seconds"] = threshold["calibration"]["seconds"]
        if training_args.do_train and trainer.is_world_process_zero():  # saved with the model it belongs to
            write_json_atomic(Path(training_args.output_dir) / A.THRESHOLD_FILE,
                              {**threshold, "model": relpath(training_args.output_dir)})
    metrics = None
    if training_args.do_eval:  # writes the prediction files
        progress.predict_label = "eval"
        metrics, _, t_eval = S.evaluate(trainer, eval_examples, eval_feats, data_args, training_args.output_dir,
                                        threshold=threshold["value"])
        timing["eval_seconds"] = round(t_eval, 2)
        timing["eval_samples_per_second"] = round(len(eval_feats) / t_eval, 2)
        log.info("eval metrics: %s", json.dumps({k: round(v, 3) for k, v in metrics.items()}))
    return threshold, metrics


def setup(model_args, data_args, training_args, optional):
    """Everything before training: checks, data, model, features, the Trainer (benchmarks/train_profile.py builds
    the job's Trainer here too). Returns the run's parts by name."""
    check_flags(training_args)
    check_share(model_args.weight_average_share, training_args.load_best_model_at_end)
    if model_args.answerability_head_weight is not None and not model_args.answerability_head_weight > 0:
        raise UserError(f"--answerability_head_weight {model_args.answerability_head_weight}: give a weight above 0 "
                        "(leave the flag out for no head)")
    training_args = resolve_runtime(model_args, training_args)
    A.check_outputs(data_args, training_args, training_args.do_eval)
    resume = resume_point(training_args) if training_args.do_train else None  # a bad path fails before any work
    baseline = load_baseline(data_args)
    threshold = threshold_to_use(model_args, data_args, training_args)
    questions = S.load_questions(data_args, training_args, need_train=training_args.do_train,
                                 need_calibration=threshold is None, need_eval=training_args.do_eval)
    if threshold is None and questions["calibration"] is None:
        raise UserError("--null_score_diff_threshold auto needs training-side questions to calibrate on (--train_file, "
                        "--dataset_name or --protocol dev-split), or a model folder with a saved qa_threshold.json; "
                        "or pass a number")
    model_path, tokenizer, model, model_info = load_model(model_args, data_args, training_args, optional)
    prediction_kernel = switch_attention(model, model_args.train_attn_implementation) if training_args.do_train else None
    if model_args.answerability_head_weight and training_args.do_train:
        attach(model)  # new, or the one the model folder was saved with
    optional("banner", run_banner_for, training_args, model_info, model_path, S.describe_data(questions, data_args),
             threshold=str(data_args.null_score_diff_threshold), speed=training_levers(model_args, training_args))
    train_feats, eval_examples, eval_feats, data_prov, t_pre = S.load_features(data_args, tokenizer, training_args,
                                                                               questions)
    train_feats, training_args, order = S.order_training(train_feats, data_args, training_args, questions["seed"])
    if order:
        data_prov["train"]["order"] = order
    if baseline and baseline["data"]["eval"]["ids_sha256"] != data_prov.get("eval", {}).get("ids_sha256"):
        raise UserError(f"{data_args.baseline_results} was scored on other eval questions; rerun the baseline "
                        "with the same data flags and seed")
    trainer = build_trainer(model_args, data_args, training_args, model, tokenizer, train_feats, eval_examples,
                            eval_feats, threshold, resume)
    return dict(training_args=training_args, resume=resume, baseline=baseline, threshold=threshold,
                questions=questions, tokenizer=tokenizer, model_info=model_info, train_feats=train_feats,
                eval_examples=eval_examples, eval_feats=eval_feats, data_prov=data_prov, t_pre=t_pre, trainer=trainer,
                prediction_kernel=prediction_kernel)


def main():
    quiet_tokenizer_fork_warning()
    model_args, data_args, training_args = parse_args()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    optional = OptionalSteps(log)
    prov = provenance(optional)  # at the start: the code and command that this run used
    r = setup(model_args, data_args, training_args, optional)
    training_args, trainer, threshold, baseline = r["training_args"], r["trainer"], r["threshold"], r["baseline"]
    train_feats, eval_examples, eval_feats, data_prov = r["train_feats"], r["eval_examples"], r["eval_feats"], r["data_prov"]
    progress = install(trainer)  # rate and time left for training and each prediction, in a terminal or a log
    timing = {"preprocess_seconds": round(r["t_pre"], 2)}
    logs = train(trainer, training_args, data_args, train_feats, r["resume"], timing, optional, r["prediction_kernel"]) \
        if training_args.do_train else {"loss_log": None}
    threshold, metrics = calibrate_and_evaluate(trainer, progress, r["questions"], eval_examples, eval_feats,
                                                data_args, training_args, threshold, timing)
    if not trainer.is_world_process_zero():
        return
    result = {"task": "squad_v2", "kind": "fine-tuned" if training_args.do_train else "evaluated",
              "protocol": data_prov["protocol"], "protocol_note": data_prov.get("protocol_note"),
              "command": prov.pop("command"), "model": r["model_info"],
              "data": S.data_record(data_prov, data_args),
              "hyperparameters": S.hyperparameters(data_args, training_args, model_args),
              "null_threshold": threshold, "metrics": metrics, "baseline_metrics": baseline["metrics"] if baseline else None,
              "baseline_results": data_args.baseline_results, "best_checkpoint": relpath(trainer.state.best_model_checkpoint)
              if trainer.state.best_model_checkpoint else None,
              "output_dir": relpath(training_args.output_dir), "timing": timing, **logs,
              **prov}
    finish(result, model_args, data_args, training_args, trainer, r["tokenizer"], baseline, optional, eval_examples)


def finish(result, model_args, data_args, training_args, trainer, tokenizer, baseline, optional, eval_examples=None):
    """The essentials first, then the optional parts (runtime record, demo, model card), then the results JSON."""
    write_essentials(training_args.output_dir, result)  # model, predictions, metrics: on disk before anything optional
    result["runtime"] = optional("runtime record", runtime_record, model_args, training_args, trainer.model)
    threshold = result["null_threshold"]
    value, windows = threshold["value"] if threshold else 0.0, {k: getattr(data_args, k) for k in QA_KEYS}
    short = threshold.get("short_contexts") if threshold else None  # as ask.py reads it from qa_threshold.json
    d = ask_demo(optional, log, trainer.model, tokenizer, value, short, **windows)
    rb = ask_robustness(optional, log, trainer.model, tokenizer, eval_examples, value, short, **windows) \
        if eval_examples is not None else None
    result.update(demo=d, demo_baseline=baseline.get("demo") if baseline else None, robustness=rb,
                  warnings=optional.warnings)
    finish_run(result, A.results_path(data_args, training_args), training_args.output_dir, training_args.do_train,
               optional, log)


if __name__ == "__main__":
    exit_on_user_error(main)
