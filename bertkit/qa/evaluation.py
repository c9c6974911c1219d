"""What scoring a SQuAD model as it is takes (run_baseline.py: run_squad.py --do_eval at a given threshold, plus
the demo): no training flag on its command line, the model loaded and checked, the demo question asked."""
from __future__ import annotations

import dataclasses
import json

from ..errors import UserError
from ..train.modeling import load_qa_model, model_provenance, resolve_model
from .arguments import check_model_fits

# The flags only training reads: Hugging Face's TrainingArguments about the optimizer, schedule, steps, checkpoints
# and the training log, and this project's own. Refused, not ignored: whoever passes one expects it to act.
TRAINING_FLAGS = frozenset({
    "do_train", "resume_from_checkpoint", "num_train_epochs", "max_steps", "learning_rate", "lr_scheduler_type",
    "per_device_train_batch_size", "gradient_accumulation_steps", "optim", "train_sampling_strategy",
    "lr_scheduler_kwargs", "warmup_steps", "weight_decay", "adam_beta1", "adam_beta2",
    "adam_epsilon", "max_grad_norm", "optim_args", "optim_target_modules", "label_smoothing_factor",
    "gradient_checkpointing", "gradient_checkpointing_kwargs", "activation_checkpointing",
    "activation_checkpointing_kwargs", "neftune_noise_alpha", "auto_find_batch_size",
    "average_tokens_across_devices", "torch_empty_cache_steps", "save_strategy", "save_steps", "save_total_limit",
    "save_only_model", "save_on_each_node", "enable_jit_checkpoint", "load_best_model_at_end",
    "metric_for_best_model", "greater_is_better", "ignore_data_skip", "restore_callback_states_from_checkpoint",
    "eval_strategy", "eval_steps", "eval_delay", "eval_on_start", "logging_strategy", "logging_steps",
    "logging_first_step",
    "freeze_word_embeddings", "freeze_layers", "head_learning_rate", "attention_dropout",  # ModelArguments
    "train_attn_implementation", "weight_average_share", "answerability_head_weight",
    "max_train_samples", "max_train_unanswerable_fraction", "late_no_answer_share",  # DataArguments
    "short_context_share", "short_context_negatives",
})
def flags_given(types, argv) -> list[str]:
    """The fields of the dataclasses `types` that the command line `argv` itself sets, in its order, read as
    HfArgumentParser reads them (--name=value, --name-with-dashes, a unique prefix, --no_name); for a single .json
    file of flag values, its keys. Defaults are never compared: a flag given with its default value is given."""
    argv = list(argv)
    if len(argv) == 1 and argv[0].endswith(".json"):
        with open(argv[0]) as f:
            return list(json.load(f))
    names = [f.name for t in types for f in dataclasses.fields(t)]
    given = []
    for word in argv:
        if not word.startswith("--"):
            continue  # a value
        name = word[2:].split("=", 1)[0].replace("-", "_")
        if name not in names and name.startswith("no_") and name[3:] in names:
            name = name[3:]  # --no_x: a bool flag given as false
        if name not in names:  # argparse takes a unique prefix
            hits = [n for n in names if n.startswith(name)]
            name = hits[0] if len(hits) == 1 else name
        if name not in given:
            given.append(name)
    return given


def refuse_training_flags(types, argv, script: str):
    """One error line naming the training flags `argv` gives a script that scores the model as it is."""
    bad = [f"--{f}" for f in flags_given(types, argv) if f in TRAINING_FLAGS]
    if bad:
        raise UserError(f"{script} scores the model as it is, before any training: {', '.join(bad)} "
                        f"{'is a training flag' if len(bad) == 1 else 'are training flags'}; run_squad.py trains "
                        f"(--do_train); leave {'it' if len(bad) == 1 else 'them'} out here")


def load_model(model_args, data_args, training_args, optional):
    """(model path, tokenizer, QA model, its provenance): resolved, loaded (a new QA head initialised under
    --seed) and checked against the windows' flags."""
    model_path = resolve_model(model_args.model_name_or_path)
    tokenizer, model = load_qa_model(model_path, training_args.seed, model_args.trust_remote_code,
                                     model_args.attn_implementation, model_args.model_dtype,
                                     model_args.attention_dropout)
    check_model_fits(data_args, model, tokenizer)
    model_info = optional("model provenance", model_provenance, model_path, model, tokenizer,
                          default={"name_or_path": model_path})
    return model_path, tokenizer, model, model_info


def ask_demo(optional, logger, model, tokenizer, threshold: float = 0.0, short=None, **windows) -> dict | None:
    """The demo question (bertkit.qa.inference.DEMO) at `threshold` with the window settings given
    (max_seq_length, doc_stride, ...), logged to the script's `logger`; None where it failed (a warning of the run)."""
    from .inference import demo, describe
    d = optional("demo", demo, model, tokenizer, null_score_diff_threshold=threshold, short_context_threshold=short,
                 **windows)
    if d:
        logger.info("demo %r: %s", d["question"], describe(d, threshold))
    return d


def ask_robustness(optional, logger, model, tokenizer, examples, threshold: float = 0.0, short=None,
                   **windows) -> dict | None:
    """Short contexts and plain questions (bertkit.qa.robustness) at `threshold`, logged in one line each; None
    where it failed (a warning of the run)."""
    from .robustness import robustness
    r = optional("robustness", robustness, model, tokenizer, examples, threshold, short, **windows)
    for name, what in (("short_context", "short contexts (one sentence of an eval paragraph)"),
                       ("plain_questions", "plain questions")) if r else ():
        x = r[name]
        logger.info("%s: answers %s %% of %d answerable (right %s %%, F1 %s, best span F1 %s), abstains on %s %% of %d",
                    what, x["answer_rate"], x["answerable"], x["right_rate"], x["f1"], x["best_span_f1"],
                    x["abstain_rate"], x["unanswerable"])
        if x.get("reachable"):  # bertkit.qa.robustness.reachable
            y = x["reachable"]
            logger.info("%s: at best (the set's own cut) it answers %s %% (right %s %%) while abstaining on %s %%",
                        what, y["answer_rate"], y["right_rate"], y["abstain_rate"])
    return r
