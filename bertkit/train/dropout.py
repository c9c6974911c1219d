"""--attention_dropout: each family's config key for the dropout on attention weights."""
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
