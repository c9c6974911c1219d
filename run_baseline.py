"""Score a model *without* fine-tuning on the SQuAD 2.0 eval questions: the "before" of before/after.

The QA head of a pre-trained encoder is new (initialised under --seed), so this is what the tutorial's
zero-shot model does. Also records the demo question and the "no answer everywhere" reference.
    .venv/bin/python run_baseline.py --protocol dev-split --validation_file data/squad_v2/dev-v2.0.json.gz \
        --model_name_or_path minilm --max_eval_samples 500 --output_dir outputs/baseline
Takes run_squad.py's data, model and evaluation flags; a training flag given (--do_train, --learning_rate, ...:
bertkit.qa.evaluation.TRAINING_FLAGS) is refused: run_squad.py trains.
"""
import json
import logging
import sys

from transformers import TrainingArguments

from bertkit.qa import arguments as A
from bertkit.qa import steps as S
from bertkit.errors import UserError, exit_on_user_error
from bertkit.qa.evaluation import ask_demo, ask_robustness, load_model, refuse_training_flags
from bertkit.qa.trainer import QuestionAnsweringTrainer
from bertkit.train.flags import parse_flags
from bertkit.train.model_settings import QA_KEYS
from bertkit.train.modeling import ModelArguments, quiet_tokenizer_fork_warning
from bertkit.utils.banner import run_banner_for
from bertkit.utils.progress import install
from bertkit.results.record import OptionalSteps, provenance, relpath, write_essentials, write_json_atomic
from bertkit.train.runtime import collator, resolve_runtime, runtime_record
from bertkit.qa.scoring import squad_v2_metrics

log = logging.getLogger("run_baseline")
FLAGS = (ModelArguments, A.DataArguments, TrainingArguments)


def main():
    quiet_tokenizer_fork_warning()
    refuse_training_flags(FLAGS, sys.argv[1:], "run_baseline.py")  # before anything is read, loaded or written
    model_args, data_args, training_args = parse_flags(FLAGS)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    optional = OptionalSteps(log)
    prov = provenance(optional)  # at the start: the code and command that this run used
    training_args = resolve_runtime(model_args, training_args)
    A.check_outputs(data_args, training_args)
    if A.threshold_setting(data_args) == "auto":
        raise UserError("run_baseline.py scores the model before any training, so there is nothing to calibrate the "
                        "threshold on: pass --null_score_diff_threshold <number> (default 0.0); best_* give the "
                        "oracle threshold")
    questions = S.load_questions(data_args, training_args, need_train=False)
    model_path, tokenizer, model, model_info = load_model(model_args, data_args, training_args, optional)
    optional("banner", run_banner_for, training_args, model_info, model_path, S.describe_data(questions, data_args),
             threshold=str(data_args.null_score_diff_threshold))
    _, examples, feats, data_prov, t_pre = S.load_features(data_args, tokenizer, training_args, questions)
    trainer = QuestionAnsweringTrainer(model=model, args=training_args, processing_class=tokenizer,
                                       data_collator=collator(tokenizer, model_args, training_args), data_args=data_args,
                                       sort_eval_by_length=data_args.sort_eval_by_length,
                                       prediction_precision=model_args.prediction_precision)
    install(trainer).predict_label = "baseline eval"
    metrics, _, t_eval = S.evaluate(trainer, examples, feats, data_args, training_args.output_dir)
    no_answer = squad_v2_metrics(examples, {ex["id"]: "" for ex in examples})
    if not trainer.is_world_process_zero():
        return
    log.info("baseline metrics: %s", json.dumps({k: round(v, 3) for k, v in metrics.items()}))
    log.info("'no answer' everywhere: exact %.3f f1 %.3f", no_answer["exact"], no_answer["f1"])
    result = {"task": "squad_v2", "kind": "baseline (no fine-tuning)", "protocol": data_prov["protocol"],
              "protocol_note": data_prov.get("protocol_note"), "command": prov.pop("command"),
              "model": model_info, "data": S.data_record(data_prov, data_args),
              "hyperparameters": S.hyperparameters(data_args, training_args), "metrics": metrics,
              "no_answer_metrics": no_answer, "output_dir": relpath(training_args.output_dir),
              "timing": {"preprocess_seconds": round(t_pre, 2), "eval_seconds": round(t_eval, 2),
                         "eval_samples_per_second": round(len(feats) / t_eval, 2)}, **prov}
    write_essentials(training_args.output_dir, result)  # before anything optional
    result["runtime"] = optional("runtime record", runtime_record, model_args, training_args, model)
    windows, value = {k: getattr(data_args, k) for k in QA_KEYS}, A.threshold_setting(data_args)  # a number here
    d = ask_demo(optional, log, model, tokenizer, value, **windows)
    rb = ask_robustness(optional, log, model, tokenizer, examples, value, **windows)
    result.update(demo=d, robustness=rb, warnings=optional.warnings)
    path = A.results_path(data_args, training_args)
    write_json_atomic(path, result)
    log.info("wrote %s", path)


if __name__ == "__main__":
    exit_on_user_error(main)
