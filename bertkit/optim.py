"""Training knobs that change what is trained: frozen word embeddings, a separate rate for the new QA head.

Both aim at more learning per CPU-second on a small budget: the word-embedding matrix is about half of
MiniLM's weights (its AdamW update costs time every step), and the QA head starts from random weights, so
it can take a larger step than the pre-trained encoder.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

HEAD_PREFIXES = ("qa_outputs.", "classifier.")  # the task heads AutoModelFor{QuestionAnswering,SequenceClassification} add


def freeze_word_embeddings(model) -> int:
    """Stop training the input word embeddings; returns how many weights that freezes."""
    w = model.get_input_embeddings().weight
    w.requires_grad_(False)
    log.info("word embeddings frozen: %d of %d weights are not trained", w.numel(),
             sum(p.numel() for p in model.parameters()))
    return w.numel()


def freeze_layers(model, n: int) -> int:
    """Stop training the embeddings and the first n transformer layers: backward stops above them, so a step
    costs less; returns how many weights that freezes."""
    base = getattr(model, model.base_model_prefix, model)
    layers = base.encoder.layer
    if not 0 <= n <= len(layers):
        from .errors import UserError
        raise UserError(f"--freeze_layers {n}: the model has {len(layers)} layers; give 0 to {len(layers)}")
    frozen = 0
    for module in [base.embeddings, *layers[:n]]:
        for p in module.parameters():
            p.requires_grad_(False)
            frozen += p.numel()
    log.info("embeddings and the first %d of %d layers frozen: %d of %d weights are not trained", n, len(layers),
             frozen, sum(p.numel() for p in model.parameters()))
    return frozen


def freeze(model, model_args) -> None:
    """What --freeze_layers / --freeze_word_embeddings ask for."""
    if model_args.freeze_layers is not None:
        freeze_layers(model, model_args.freeze_layers)
    if model_args.freeze_word_embeddings:
        freeze_word_embeddings(model)


def head_rate_optimizer(trainer, head_learning_rate: float):
    """The Trainer's own optimizer (class, kwargs, weight-decay groups) with the head in groups of its own rate."""
    model, args = trainer.model, trainer.args
    decay = set(trainer.get_decay_parameter_names(model))
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        head = name.startswith(HEAD_PREFIXES)
        key = (head, name in decay)
        groups.setdefault(key, {"params": [], "weight_decay": args.weight_decay if key[1] else 0.0,
                                "lr": head_learning_rate if head else args.learning_rate})["params"].append(p)
    if not any(h for h, _ in groups):
        from .errors import UserError
        raise UserError("--head_learning_rate: this model has no qa_outputs/classifier head to give a rate of its own")
    cls, kwargs = trainer.get_optimizer_cls_and_kwargs(args, model)
    kwargs = {k: v for k, v in kwargs.items() if k != "lr"}
    log.info("QA head learning rate %g (encoder %g)", head_learning_rate, args.learning_rate)
    return cls(list(groups.values()), lr=args.learning_rate, **kwargs)
