"""Attention in training: --attention_dropout (each family's config key for the dropout on attention weights) and
--train_attn_implementation (the kernel for training steps only)."""
from __future__ import annotations

from ..errors import UserError

ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout")  # BERT/MPNet/RoBERTa; DistilBERT/ModernBERT


def attention_dropout_override(name_or_path: str, p: float | None, trust_remote_code: bool = False) -> dict:
    """The config key (this family's name for it) that sets the dropout on attention weights to `p`; {} for None."""
    if p is None:
        return {}
    if not 0.0 <= p < 1.0:
        raise UserError(f"--attention_dropout {p} is not in [0, 1)")
    from transformers import AutoConfig
    cfg = AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    for key in ATTENTION_DROPOUT_KEYS:
        if hasattr(cfg, key):
            return {key: p}
    raise UserError(f"--attention_dropout: the {cfg.model_type} config has none of {', '.join(ATTENTION_DROPOUT_KEYS)}; "
                    "leave the flag out for this model")


def attention_kernel(model) -> str | None:
    """The attention kernel the model runs now (transformers keeps it on the config)."""
    return getattr(getattr(model, "config", None), "_attn_implementation", None)


def switch_attention(model, kernel: str | None) -> str | None:
    """Set the model's attention kernel to `kernel` (None: no change); returns the kernel it had, to switch back
    to after training. Why two kernels: with attention dropout 0 on a CPU, eager attention trains faster than sdpa
    (whose CPU backward is slow) while sdpa predicts faster (benchmarks/train_profile.py); set_attn_implementation
    is transformers' public switch."""
    before = attention_kernel(model)
    if not kernel or kernel == before:
        return None
    try:
        model.set_attn_implementation(kernel)
    except (ValueError, ImportError) as e:
        raise UserError(f"--train_attn_implementation {kernel}: {str(e).splitlines()[0][:200]}; leave the flag out "
                        "or pass eager") from None
    if attention_kernel(model) != kernel:  # a class that cannot switch says so in a warning and keeps its own
        raise UserError(f"--train_attn_implementation {kernel}: {type(model).__name__} cannot switch its attention "
                        "kernel after loading; pass --attn_implementation instead")
    return before
