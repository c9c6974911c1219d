"""Training knobs that change what is trained: frozen word embeddings, a separate rate for the new QA head.

Both aim at more learning per CPU-second on a small budget: the word-embedding matrix is about half of
MiniLM's weights (its AdamW update costs time every step), and the QA head starts from random weights, so
it can take a larger step than the pre-trained encoder.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

def freeze_word_embeddings(model) -> int:
    """Stop training the input word embeddings; returns how many weights that freezes."""
    w = model.get_input_embeddings().weight
    w.requires_grad_(False)
    log.info("word embeddings frozen: %d of %d weights are not trained", w.numel(),
             sum(p.numel() for p in model.parameters()))
    return w.numel()


def encoder_layers(model):
    """(embedding modules, the list of transformer layers) of any family: BERT, RoBERTa, ELECTRA, XLM-R and
    DeBERTa keep them in encoder.layer, DistilBERT in transformer.layer, ModernBERT in layers. Found as the
    model's ModuleList of num_hidden_layers blocks; None where there is no such list."""
    import torch
    base = getattr(model, model.base_model_prefix, model)
    n = getattr(model.config, "num_hidden_layers", None)
    layers = next((m for _, m in base.named_modules() if isinstance(m, torch.nn.ModuleList) and len(m) == n), None)
    if layers is None or not hasattr(base, "embeddings"):
        return None
    embeddings = [base.embeddings] + [getattr(base, k) for k in ("embeddings_project",) if hasattr(base, k)]  # ELECTRA
    return embeddings, layers


def freeze_layers(model, n: int) -> int:
    """Stop training the embeddings and the first n transformer layers: backward stops above them, so a step
    costs less; returns how many weights that freezes."""
    from ..errors import UserError
    found = encoder_layers(model)
    if found is None:
        raise UserError(f"--freeze_layers: cannot find the layer list of a {model.config.model_type} model "
                        f"({type(model).__name__}); leave the flag out for this family")
    embeddings, layers = found
    if not 0 <= n <= len(layers):
        raise UserError(f"--freeze_layers {n}: the model has {len(layers)} layers; give 0 to {len(layers)}")
    frozen = 0
    for module in [*embeddings, *layers[:n]]:
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


def head_parameter_names(model) -> set[str]:
    """The task head: every parameter the checkpoint did not hold (the load report: qa_outputs, classifier,
    DistilBERT's pre_classifier, DeBERTa's pooler, ...) and every parameter outside the base encoder (the head of
    a model that was fine-tuned before, whose checkpoint holds it)."""
    prefix = model.base_model_prefix + "."
    new = set(getattr(model, "bertkit_new_parameters", None) or [])
    return {name for name, _ in model.named_parameters() if name in new or not name.startswith(prefix)}


def head_rate_optimizer(trainer, head_learning_rate: float):
    """The Trainer's own optimizer (class, kwargs, weight-decay groups) with the head in groups of its own rate."""
    model, args = trainer.model, trainer.args
    decay = set(trainer.get_decay_parameter_names(model))
    heads = head_parameter_names(model)
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        head = name in heads
        key = (head, name in decay)
        groups.setdefault(key, {"params": [], "weight_decay": args.weight_decay if key[1] else 0.0,
                                "lr": head_learning_rate if head else args.learning_rate})["params"].append(p)
    if not any(h for h, _ in groups):
        from ..errors import UserError
        raise UserError("--head_learning_rate: this model has no new or task-head parameters to give a rate of its own")
    cls, kwargs = trainer.get_optimizer_cls_and_kwargs(args, model)
    kwargs = {k: v for k, v in kwargs.items() if k != "lr"}
    log.info("head learning rate %g for %s (encoder %g)", head_learning_rate,
             ", ".join(sorted({n.rsplit(".", 1)[0] for n in heads})), args.learning_rate)
    return cls(list(groups.values()), lr=args.learning_rate, **kwargs)
