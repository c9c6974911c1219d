"""The SQuAD scripts' data flags (DataArguments) and the checks run on them before anything heavy loads; the
no-answer threshold saved beside a fine-tuned model (qa_threshold.json)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..results.record import REPO
from ..train.modeling import check_length
from .scoring import CALIBRATION_METHODS
from .short_contexts import NEGATIVES


@dataclass
class DataArguments:
    dataset_name: str | None = field(default=None, metadata={"help": "Hub dataset, e.g. squad_v2."})
    dataset_config_name: str | None = None
    train_file: str | None = field(default=None, metadata={
        "help": "Official SQuAD JSON(.gz), flat JSONL, question/context/answer JSONL/CSV/TSV, Parquet, or a "
                "save_to_disk folder (a DatasetDict's train split)."})
    validation_file: str | None = field(default=None, metadata={
        "help": "As --train_file; a save_to_disk DatasetDict folder gives its validation split."})
    protocol: str | None = field(default=None, metadata={
        "help": "'dev-split': train on dev articles 0-24, evaluate on 25-34 of --validation_file (offline)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Seeded random subset of whole questions."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Seeded random subset of whole questions."})
    skip_bad_answers: bool = field(default=False, metadata={
        "help": "Leave out questions whose answer_start does not point at their answer text (counted in the "
                "results JSON) instead of stopping with an error naming the first one."})
    max_train_unanswerable_fraction: float | None = field(default=None, metadata={
        "help": "Cap the share of unanswerable questions in training (small budgets otherwise learn only 'no answer')."})
    late_no_answer_share: float | None = field(default=None, metadata={
        "help": "Order training so that every no-answer window comes in the last this share of each epoch (spans "
                "first, then which questions have no answer), grouped by length within each part; the run then "
                "samples in this order (train_sampling_strategy sequential). Default: shuffled."})
    calibrate_short_contexts: bool = field(default=True, metadata={
        "help": "With a calibrated threshold, calibrate a second one on the calibration questions each asked with "
                "one sentence of its paragraph; ask.py, the page and the API use it for short contexts "
                "(bertkit/qa/short_threshold.py). The paragraph metrics keep the paragraph threshold."})
    short_context_share: float = field(default=0.0, metadata={
        "help": "Ask this share of the training questions again with one sentence of their paragraph as the context "
                "(the answer's sentence; a sentence without it, as no answer: --short_context_negatives), as users "
                "paste short texts (bertkit/qa/short_contexts.py). 0: off."})
    short_context_negatives: str = field(default="random", metadata={
        "help": "With --short_context_share: the sentence without the answer an answerable question is also asked "
                "with, as no answer: random | closest (most words shared with the question) | mixed (either, by a seeded coin) | none."})
    short_context_swap: bool = field(default=False, metadata={
        "help": "With --short_context_share: also ask each drawn answerable question, one of its names or numbers "
                "swapped for another of its paragraph's, against its answer's sentence, as no answer "
                "(bertkit/qa/short_contexts.py)."})
    max_seq_length: int = 384
    doc_stride: int = field(default=128, metadata={"help": "Tokens shared by consecutive windows of a long context."})
    max_query_length: int = 64
    preprocessing_num_workers: int | None = None
    overwrite_cache: bool = False
    n_best_size: int = 20
    max_answer_length: int = 30
    cut_restated_question: bool = field(default=True, metadata={
        "help": "Cut a span that restates the question up to 'is' to what follows it ('The capital of China is "
                "Beijing' -> 'Beijing'), and drop its trailing punctuation; scores and no-answer margins stay as "
                "they were (bertkit/qa/restatement.py). false: the spans as Hugging Face's utils_qa gives them."})
    sort_eval_by_length: bool = field(default=True, metadata={
        "help": "Predict eval windows longest first (each batch padded to about its own length), then map the "
                "logits back to dataset order: the same predictions with less padding. false: dataset order."})
    null_score_diff_threshold: str = field(default="0.0", metadata={
        "help": "Predict no answer when null score - best span score > this. 'auto': the value that maximises F1 "
                "on --calibration_samples questions held out of the training data (never trained on), saved "
                "with the model as qa_threshold.json; evaluating a saved model, auto reads that file."})
    calibration_samples: int = field(default=400, metadata={
        "help": "With --null_score_diff_threshold auto: how many training-side questions (at least: whole "
                "articles, see --calibration_unit) are held out of training to choose the threshold."})
    calibration_unit: str = field(default="article", metadata={
        "help": "With --null_score_diff_threshold auto: hold out whole training articles (article: every question "
                "of the first seeded articles that reach --calibration_samples) or whole paragraphs (paragraph: "
                "--calibration_samples questions). Either way no calibration question's context is trained on."})
    calibration_method: str = field(default="expected_gain", metadata={
        "help": "With --null_score_diff_threshold auto: expected_gain (answer where P(answerable) x expected span "
                "F1 beats P(no answer), from two logistic fits of the calibration questions; as good as max_f1 on "
                "average and less noisy over bootstrap resamples, measured: docs/results.md) or max_f1 (the "
                "cut that maximises the calibration questions' F1)."})
    calibration_answer_floor: float | None = field(default=None, metadata={
        "help": "With --null_score_diff_threshold auto: answer at least this share (0-1) of as many calibration "
                "questions as are answerable there, the surest first, where the method would answer fewer (also "
                "for the short-context threshold). Empty: the method's threshold as it is."})
    results_file: str | None = field(default=None, metadata={
        "help": "Results JSON (default results/<basename of output_dir>.json); never overwritten."})
    baseline_results: str | None = field(default=None, metadata={
        "help": "A run_baseline.py results JSON on the same eval questions, copied in as baseline_metrics."})


def check_outputs(data_args, training_args, will_write_predictions=True):
    """Refuse before any work if we would overwrite an earlier result."""
    out = Path(training_args.output_dir)
    res = Path(results_path(data_args, training_args))
    if res.exists():
        raise UserError(f"{res} exists; choose another --results_file or --output_dir (results are never overwritten)")
    if will_write_predictions and (out / "predictions.json").exists():
        raise UserError(f"{out} already holds predictions.json; choose another --output_dir")
    if training_args.do_train and not training_args.resume_from_checkpoint and out.is_dir() and any(out.glob("checkpoint-*")):
        raise UserError(f"{out} holds checkpoints; pass --resume_from_checkpoint {out} (or a checkpoint) to go on, "
                        "or choose another --output_dir")


def results_path(data_args, training_args) -> str:
    if data_args.results_file:
        return data_args.results_file
    return str(REPO / "results" / f"{Path(training_args.output_dir).resolve().name}.json")


def check_sizes(data_args):
    """Flags that would fail deep inside tokenisation or leave nothing to do: refused before any work."""
    for name in ("max_train_samples", "max_eval_samples"):
        v = getattr(data_args, name)
        if v is not None and v < 1:
            raise UserError(f"--{name} {v}: give a positive number of questions (or leave it out for all)")
    threshold_setting(data_args)
    late = data_args.late_no_answer_share
    if late is not None and not 0 < late <= 1:
        raise UserError(f"--late_no_answer_share {late}: give a share above 0 and at most 1 (or leave it out)")
    if not 0 <= data_args.short_context_share <= 1:
        raise UserError(f"--short_context_share {data_args.short_context_share}: give a share between 0 and 1")
    if data_args.short_context_negatives not in NEGATIVES:
        raise UserError(f"--short_context_negatives {data_args.short_context_negatives!r}: give one of {', '.join(NEGATIVES)}")
    if data_args.short_context_swap and not data_args.short_context_share:
        raise UserError("--short_context_swap true needs --short_context_share above 0 (the questions it swaps are "
                        "the ones drawn for one-sentence contexts)")
    if data_args.calibration_unit not in ("article", "paragraph"):
        raise UserError(f"--calibration_unit {data_args.calibration_unit!r}: give article or paragraph")
    if data_args.calibration_method not in CALIBRATION_METHODS:
        raise UserError(f"--calibration_method {data_args.calibration_method!r}: give one of "
                        f"{', '.join(CALIBRATION_METHODS)}")
    floor = data_args.calibration_answer_floor
    if floor is not None and not 0 < floor <= 1:
        raise UserError(f"--calibration_answer_floor {floor}: give a share above 0 and at most 1 (or leave it out)")
    if data_args.calibration_samples < 1:
        raise UserError(f"--calibration_samples {data_args.calibration_samples}: give a positive number of questions")
    f = data_args.max_train_unanswerable_fraction
    if f is not None and not 0 <= f <= 1:
        raise UserError(f"--max_train_unanswerable_fraction {f}: give a share between 0 and 1")
    check_room(data_args, 3)  # before the tokenizer loads: BERT's 3 special tokens, the fewest (checked again after)


def check_room(data_args, n_special: int):
    room = data_args.max_seq_length - data_args.max_query_length - n_special  # e.g. [CLS] question [SEP] context [SEP]
    if data_args.max_query_length < 1 or room < 8:
        raise UserError(f"--max_seq_length {data_args.max_seq_length} leaves {room} tokens of context after a question "
                        f"of --max_query_length {data_args.max_query_length} and {n_special} special tokens; raise "
                        f"--max_seq_length to at least {data_args.max_query_length + n_special + 8} or lower "
                        "--max_query_length")
    if not 0 <= data_args.doc_stride < room:
        raise UserError(f"--doc_stride {data_args.doc_stride} must be below the context room of a window ({room} = "
                        f"--max_seq_length {data_args.max_seq_length} - --max_query_length {data_args.max_query_length} "
                        f"- {n_special} special tokens); consecutive windows overlap by doc_stride tokens, e.g. "
                        f"--doc_stride {room // 2}")


THRESHOLD_FILE = "qa_threshold.json"  # beside the fine-tuned model: ask.py and later evaluations use it


def threshold_setting(data_args):
    """'auto' or the given number; anything else is one clear error, before any work."""
    v = str(data_args.null_score_diff_threshold).strip()
    if v == "auto":
        return "auto"
    try:
        return float(v)
    except ValueError:
        raise UserError(f"--null_score_diff_threshold {v!r}: give a number (e.g. 0.0) or 'auto'") from None


def saved_threshold(model_dir) -> dict | None:
    """The threshold a fine-tuning run saved with its model, if any."""
    import json
    p = Path(str(model_dir)) / THRESHOLD_FILE
    if not p.is_file():
        return None
    try:
        rec = json.loads(p.read_text())
        rec["value"] = float(rec["value"])
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{p} is not a threshold file (JSON with a numeric 'value'); delete it or pass "
                        "--null_score_diff_threshold <number>") from None
    return rec


def check_model_fits(data_args, model, tokenizer):
    """The windows against the model's real position limit and the tokenizer's special tokens per pair."""
    check_length(data_args.max_seq_length, model)
    check_room(data_args, tokenizer.num_special_tokens_to_add(pair=True))
