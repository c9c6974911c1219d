"""The SQuAD steps both run_squad.py and run_baseline.py share: data -> features -> predict -> calibrate ->
evaluate, and the record of what ran (their flags and checks: bertkit/qa/arguments.py)."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..data import squad as D
from ..errors import UserError
from ..results.record import write_json_atomic
from .arguments import check_sizes, threshold_setting
from .features import featurize
from .short_contexts import add_short_contexts
from .short_threshold import calibrate_short
from .threshold_curve import ids_digest
from .scoring import abstain_note, apply_threshold, calibrate_threshold, squad_v2_metrics

log = logging.getLogger(__name__)


def load_questions(data_args, training_args, need_train, need_calibration=False, need_eval=True):
    """The eval (and train, and calibration) questions, read, validated and subset: before the model, so bad
    data fails fast. Calibration questions come from the training side, held out before any training subset."""
    t0 = time.perf_counter()
    check_sizes(data_args)
    with training_args.main_process_first(desc="read data"):  # one process builds the datasets cache
        splits, prov = D.load_squad(data_args.dataset_name, data_args.dataset_config_name, data_args.train_file,
                                    data_args.validation_file, data_args.protocol, need_train or need_calibration,
                                    data_args.skip_bad_answers, need_eval)
    seed = training_args.data_seed if training_args.data_seed is not None else training_args.seed
    ev = D.limit_questions(splits["validation"], data_args.max_eval_samples, seed) if need_eval else None
    tr, cal = splits["train"], None
    if tr is not None and need_calibration:
        # held out before the training subset is drawn: these questions are never trained on
        if data_args.calibration_samples >= len(tr):
            raise UserError(f"--calibration_samples {data_args.calibration_samples} leaves no training questions "
                            f"(the training side has {len(tr)}); lower it")
        cal_idx, out_idx = hold_out(tr, data_args.calibration_samples, data_args.calibration_unit, seed)
        cal = tr.select(cal_idx)
        tr = tr.select(np.setdiff1d(np.arange(len(tr)), out_idx))
    if tr is not None and need_train:
        tr = D.limit_questions(tr, data_args.max_train_samples, seed, data_args.max_train_unanswerable_fraction)
        if len(tr) == 0:
            raise UserError("no training questions left after --max_train_samples / "
                            f"--max_train_unanswerable_fraction {data_args.max_train_unanswerable_fraction} (the "
                            "training data may hold only unanswerable questions); loosen them")
        if data_args.short_context_share:
            tr, prov["short_contexts"] = add_short_contexts(tr, data_args.short_context_share, seed,
                                                            data_args.short_context_negatives,
                                                            data_args.short_context_swap)
    if ev is not None and len(ev) == 0:
        raise UserError("no evaluation questions; check --validation_file and --max_eval_samples")
    return {"train": tr if need_train else None, "validation": ev, "calibration": cal, "prov": prov, "seed": seed,
            "seconds": time.perf_counter() - t0}


def hold_out(tr, n: int, unit: str, seed: int) -> tuple[list[int], list[int]]:
    """The calibration questions: whole articles (every question of them; the eval articles are new to the model
    too), else whole paragraphs (n questions). Whole articles because the eval questions' articles are new to the
    model: on random training-side questions or on held-out paragraphs of trained articles, where the model is
    surer of itself, the threshold came out off the eval questions' best (measured: docs/results.md). A training
    side of one article (a user's own file, say) falls back to paragraphs."""
    articles = [f"{a}|{t}" for a, t in zip(tr["article_index"], tr["title"])]
    if unit == "article" and len(set(articles)) >= 2:
        cal, out = D.hold_out_groups(articles, n, seed, whole=True)
        if len(out) < len(tr):
            return cal, out
    if unit == "article":
        log.warning("the training side has too few articles to hold whole ones out for calibration: holding out "
                    "whole paragraphs instead")
    return D.hold_out_groups(tr["context"], n, seed, whole=False)


def describe_data(questions, data_args) -> str:
    """One line for the run's banner: protocol and question counts."""
    tr, cal = questions["train"], questions.get("calibration")
    parts = [f"SQuAD 2.0 {questions['prov'].get('protocol') or 'files'}:"]
    if tr is not None:
        parts.append(f"train {len(tr)} questions,")
    if cal is not None:
        parts.append(f"calibration {len(cal)} (held out of training),")
    ev = questions["validation"]
    parts.append(f"eval {len(ev) if ev is not None else 'none (training only)'}; {data_args.max_seq_length}-token "
                 f"windows, stride {data_args.doc_stride}")
    return " ".join(parts)


def load_features(data_args, tokenizer, training_args, questions):
    t0 = time.perf_counter()
    tr, ev, prov, seed = questions["train"], questions["validation"], questions["prov"], questions["seed"]
    mpf = training_args.main_process_first
    ev_feats, ev_cached = featurize(ev, tokenizer, False, data_args, mpf) if ev is not None else (None, None)
    tr_feats, tr_cached = featurize(tr, tokenizer, True, data_args, mpf) if tr is not None else (None, None)
    cal = questions.get("calibration")
    if cal is not None:
        cal_feats, _ = featurize(cal, tokenizer, False, data_args, mpf)
        prov["calibration"] = {**D.counts(cal), "n_features": len(cal_feats), "ids_sha256": ids_digest(cal["id"]),
                               "n_contexts": len(set(cal["context"])), "n_articles": len(set(cal["title"])),
                               "unit": data_args.calibration_unit,
                               "subset": f"whole {data_args.calibration_unit}s of the training side in a seeded order "
                                         f"(seed {seed}) until they hold {data_args.calibration_samples} questions, "
                                         f"held out of training before the training subset: {len(cal)} questions"}
        questions["calibration_features"] = cal_feats
    log.info("process %d: eval windows %s, train windows %s", training_args.process_index,
             *("read from the datasets cache" if c else "computed" if c is not None else "-" for c in (ev_cached, tr_cached)))
    if ev is not None:
        prov["eval"] = {**D.counts(ev), "n_features": len(ev_feats), "ids_sha256": ids_digest(ev["id"]),
                        "features_from_cache": ev_cached, "subset": f"seeded random {data_args.max_eval_samples} "
                        f"(seed {seed})" if data_args.max_eval_samples else "all"}
    if tr is not None:
        n_span = sum(1 for s in tr_feats["start_positions"] if s != 0)
        prov["train"] = {**D.counts(tr), "n_features": len(tr_feats), "n_features_with_span": n_span,
                         "features_from_cache": tr_cached,
                         "ids_sha256": ids_digest(tr["id"]),
                         "subset": f"seeded random {data_args.max_train_samples} (seed {seed})" if data_args.max_train_samples else "all",
                         "max_unanswerable_fraction": data_args.max_train_unanswerable_fraction}
    return tr_feats, ev, ev_feats, prov, time.perf_counter() - t0 + questions["seconds"]


def order_training(train_feats, data_args, training_args, seed):
    """--late_no_answer_share: spans first, no-answer windows late; returns (windows, TrainingArguments, record)."""
    import dataclasses
    from ..train.ordering import no_answer_last
    if train_feats is None or data_args.late_no_answer_share is None:
        return train_feats, training_args, None
    lengths = [len(x) for x in train_feats["input_ids"]]
    order, rec = no_answer_last(train_feats["start_positions"], lengths, data_args.late_no_answer_share,
                                training_args.per_device_train_batch_size * max(1, training_args.world_size), seed)
    log.info("training order: %d windows first (%d of them no-answer), then %d (%d no-answer)", rec["early_windows"],
             rec["early_no_answer_windows"], rec["late_windows"], rec["late_no_answer_windows"])
    return (train_feats.select(order), dataclasses.replace(training_args, train_sampling_strategy="sequential"), rec)


def evaluate(trainer, examples, features, data_args, out_dir, write=True, threshold=None):
    """Predict, score, and write the prediction files.
    threshold: the no-answer threshold (default: --null_score_diff_threshold, which must then be a number)."""
    threshold = threshold_setting(data_args) if threshold is None else threshold
    t0 = time.perf_counter()
    preds, nbest, odds, nonnull = trainer.predict_answers(examples, features, threshold)
    metrics = squad_v2_metrics(examples, preds, nonnull, odds)
    at_zero = squad_v2_metrics(examples, apply_threshold(nonnull, odds, 0.0))
    metrics["exact_at_0"], metrics["f1_at_0"] = at_zero["exact"], at_zero["f1"]
    seconds = time.perf_counter() - t0
    if write and trainer.is_world_process_zero():
        for name, obj in (("predictions", preds), ("nbest_predictions", nbest), ("null_odds", odds),
                          ("nonnull_predictions", nonnull)):
            write_json_atomic(Path(out_dir) / f"{name}.json", obj)
    return metrics, preds, seconds


CALIBRATION_FILES = ("calibration_null_odds", "calibration_nonnull_predictions")  # <output_dir>/<name>.json


def calibrate(trainer, questions, data_args, out_dir=None) -> dict:
    """Predict the held-out calibration questions and choose the threshold on them (--calibration_method). With
    out_dir, their null odds and best spans are written there too, so the choice can be re-made or studied."""
    t0 = time.perf_counter()
    examples, features = questions["calibration"], questions["calibration_features"]
    _, _, odds, nonnull = trainer.predict_answers(examples, features, 0.0, prefix="calibration")
    cal = calibrate_threshold(examples, nonnull, odds, data_args.calibration_method, data_args.calibration_answer_floor)
    no_answer = 100.0 * (cal["n_questions"] - cal["n_answerable"]) / cal["n_questions"]
    used = cal["method_used"] + (", raised by the answer floor" if cal.get("floor_raised") else "")
    log.info("calibrated no-answer threshold %.3f (%s): F1 %.2f on %d held-out training questions ('no answer' "
             "everywhere: %.2f)", cal["value"], used, cal["f1"], cal["n_questions"], no_answer)
    how = {"max_f1": "maximises F1 on", "expected_gain": "answers where the expected F1 gain is positive, fitted on"}
    rec = {"value": cal["value"], "method": "calibrated",
           "description": f"{how[cal['method_used']]} questions held out of training from the training side"
                          + (f"; raised to answer at least {cal['answer_floor']:g} x as many of them as are answerable"
                             if cal.get("floor_raised") else ""),
           "calibration": {**cal, "no_answer_f1": no_answer, "ids_sha256": ids_digest(examples["id"]),
                           "seconds": round(time.perf_counter() - t0, 2)}}
    if cal["answered_share"] == 0:  # answering never beat "no answer" there: say so wherever the model goes
        rec["abstains_everywhere"] = True
        log.warning("%s", abstain_note(rec))
    if data_args.calibrate_short_contexts:
        from ..train.model_settings import QA_KEYS
        t1 = time.perf_counter()
        rec["short_contexts"] = calibrate_short(trainer.model, trainer.processing_class, examples,
                                                data_args.calibration_method, data_args.calibration_answer_floor,
                                                **{k: getattr(data_args, k) for k in QA_KEYS})
        rec["short_contexts"]["seconds"] = round(time.perf_counter() - t1, 2)
        log.info("calibrated no-answer threshold for contexts of at most %d words: %.3f (F1 %.2f on the same "
                 "questions, one sentence each)", rec["short_contexts"]["max_words"], rec["short_contexts"]["value"],
                 rec["short_contexts"]["f1"])
    if out_dir is not None and trainer.is_world_process_zero():
        for name, obj in zip(CALIBRATION_FILES, (odds, nonnull)):
            write_json_atomic(Path(out_dir) / f"{name}.json", obj)
    return rec


def hyperparameters(data_args, training_args, model_args=None) -> dict:
    keys = ["learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "per_device_eval_batch_size",
            "gradient_accumulation_steps", "warmup_steps", "weight_decay", "lr_scheduler_type", "seed", "data_seed",
            "bf16", "fp16", "tf32", "optim", "train_sampling_strategy", "torch_compile", "max_grad_norm"]
    hp = {k: getattr(training_args, k) for k in keys}
    hp["optim"] = getattr(hp["optim"], "value", str(hp["optim"]))
    hp["lr_scheduler_type"] = getattr(hp["lr_scheduler_type"], "value", str(hp["lr_scheduler_type"]))
    hp["world_size"] = training_args.world_size
    if model_args is not None:
        hp["freeze_word_embeddings"] = model_args.freeze_word_embeddings
        hp["head_learning_rate"] = model_args.head_learning_rate
        hp["freeze_layers"] = model_args.freeze_layers
        hp["weight_average_share"] = model_args.weight_average_share
        hp["answerability_head_weight"] = model_args.answerability_head_weight
    hp["null_score_diff_threshold"] = threshold_setting(data_args)  # a number, or 'auto' (see null_threshold)
    for k in ("max_seq_length", "doc_stride", "max_query_length", "max_train_samples", "max_eval_samples",
              "max_train_unanswerable_fraction", "n_best_size", "max_answer_length", "calibration_samples",
              "calibration_method", "calibration_answer_floor", "calibration_unit", "late_no_answer_share", "short_context_share", "short_context_negatives",
              "short_context_swap", "calibrate_short_contexts", "cut_restated_question"):
        hp[k] = getattr(data_args, k)
    return hp


def data_record(prov, data_args) -> dict:
    rec = dict(prov)
    if data_args.validation_file:
        rec["validation_file"] = data_args.validation_file  # as given: relative paths stay portable
    if data_args.train_file:
        rec["train_file"] = data_args.train_file
    return rec
