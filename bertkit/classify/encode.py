"""A text's tokens, head or head+tail truncated (a text pair: the tokenizer's own pair template, the longer
text cut first), and one text's label(s).

Head+tail keeps the first and last tokens of a long review (Sun et al. 2019, "How to Fine-Tune BERT for
Text Classification?": 128 + 382 of 510 was best on IMDB); the budget is scaled to --max_seq_length.
"""
from __future__ import annotations

from ..errors import UserError


def encode(examples, tokenizer, max_seq_length=256, truncation="head_tail"):
    """Token ids for each review: the first tokens (head) or the first and last (head_tail), in the tokenizer's
    own single-sequence template ([CLS] x [SEP] for BERT, <s> x </s> for RoBERTa): head_tail cuts the middle out
    of the text's tokens and keeps the template's special tokens at both ends."""
    texts = [t.replace("<br />", " ") for t in examples["text"]]  # HTML line breaks cost tokens, carry nothing
    if truncation not in ("head", "head_tail"):
        raise UserError(f"--truncation {truncation!r}: use head or head_tail")
    if "text_pair" in examples:  # [CLS] a [SEP] b [SEP]: head/tail cuts would split the pair's boundary
        return tokenizer(texts, list(examples["text_pair"]), truncation="longest_first", max_length=max_seq_length)
    if truncation == "head":
        return tokenizer(texts, truncation=True, max_length=max_seq_length)
    enc = tokenizer(texts, return_special_tokens_mask=True, verbose=False)
    out = {k: [] for k in enc if k != "special_tokens_mask"}
    for i, mask in enumerate(enc["special_tokens_mask"]):
        lead = next((k for k, m in enumerate(mask) if not m), len(mask))  # special tokens before the text
        trail = next((k for k, m in enumerate(reversed(mask)) if not m), 0)  # and after it
        budget = max_seq_length - lead - trail
        n = len(mask) - lead - trail
        n_head = round(budget * 128 / 510)  # Sun et al.'s 128 of 510 text tokens, scaled to the window
        keep = (list(range(len(mask))) if n <= budget else
                [*range(lead + n_head), *range(len(mask) - trail - (budget - n_head), len(mask))])
        for k in out:
            out[k].append([enc[k][i][j] for j in keep])
    return out


def is_multi_label(model) -> bool:
    return getattr(model.config, "problem_type", None) == "multi_label_classification"


def classify_text(model, tokenizer, text: str, max_seq_length=256, truncation="head_tail", text_pair=None,
                  threshold: float | None = None) -> dict:
    """One text's label (by the model's label names) and probabilities (classify.py and the server): one forward,
    no padding. A multi-label model: every label whose probability reaches `threshold` (the model folder's,
    resolved by the caller; None: run_classification.py's default)."""
    import torch
    examples = {"text": [text], **({"text_pair": [text_pair]} if text_pair is not None else {})}
    enc = encode(examples, tokenizer, max_seq_length, truncation)
    with torch.no_grad():
        logits = model(**{k: torch.tensor(v) for k, v in enc.items()}).logits[0].float()
    labels = model.config.id2label
    if is_multi_label(model):
        if threshold is None:
            from .arguments import DataArguments
            threshold = DataArguments.multi_label_threshold
        probs = logits.sigmoid().tolist()
        return {"labels": [labels[i] for i, x in enumerate(probs) if x >= threshold], "threshold": threshold,
                "probabilities": {labels[i]: round(x, 4) for i, x in enumerate(probs)}}
    probs = logits.softmax(-1).tolist()
    best = max(range(len(probs)), key=probs.__getitem__)
    return {"label": labels[best], "probability": round(probs[best], 4),
            "probabilities": {labels[i]: round(x, 4) for i, x in enumerate(probs)}}
