"""--short_context_share: training questions asked again with one sentence of their paragraph as the whole
context, so that the model meets the short texts users paste (bertkit.qa.robustness measures them):

- an answerable question with the sentence(s) holding its first answer: a span to find in a short context;
- the same question with a sentence of its paragraph that holds none of its answers, as "no answer": drawn at
  random (--short_context_negatives random), or the one sharing the most words with the question (closest; it
  teaches that a sentence repeating the question's words holds no answer, and the tutorial's demo is one:
  measured in docs/results.md), either of the two by a seeded coin (mixed), or none;
- an unanswerable question with its closest sentence: still no answer.

Drawn from the training questions only (after the calibration hold-out and the training subset), a seeded share
of them; the copies' ids end in "~sentence" / "~other" so no id repeats.
"""
from __future__ import annotations

import numpy as np

from .robustness import content_words, sentences, short_context
from .scoring import normalize_answer


NEGATIVES = ("random", "closest", "mixed", "none")  # which sentence without the answer an answerable question gets


def other_sentence(ex: dict, how: str = "random", rng=None) -> tuple[int, int] | None:
    """A sentence of the paragraph that holds none of the question's answers, neither at their offsets nor as
    text (None where every sentence does): drawn at random, or the closest to the question (most shared content
    words, the first of ties), or one of the two by a coin (mixed)."""
    context, answers = ex["context"], ex["answers"]
    golds = [normalize_answer(t) for t in answers["text"] if normalize_answer(t)]
    spans = [(s, e) for s, e in sentences(context)
             if not any(a < e and a + len(t) > s for t, a in zip(answers["text"], answers["answer_start"]))
             and not any(g in normalize_answer(context[s:e]) for g in golds)]
    if not spans:
        return None
    if how == "mixed":
        how = "random" if rng.random() < 0.5 else "closest"
    if how == "random":
        return spans[int(rng.integers(len(spans)))]
    q = content_words(ex["question"])
    return max(spans, key=lambda s: len(q & content_words(context[s[0]:s[1]])))


def add_short_contexts(ds, share: float, seed: int, negatives: str = "random"):
    """`ds` with the sentence copies of a seeded `share` of its questions appended; and their counts."""
    from datasets import Dataset, concatenate_datasets
    rng = np.random.default_rng(seed + 30)  # its own draw: the training subset's order is left as it was
    picked = np.sort(rng.permutation(len(ds))[:int(round(share * len(ds)))])
    rows, n = [], {"answer_sentence": 0, "other_sentence": 0, "unanswerable_sentence": 0}
    for ex in ds.select(picked).to_list() if len(picked) else []:
        s = short_context(ex)
        if ex["answers"]["text"]:
            if s["answers"]["text"] and s["context"] != ex["context"]:  # shorter, with the answer inside
                rows.append({**ex, "id": f"{ex['id']}~sentence", "context": s["context"], "answers": s["answers"]})
                n["answer_sentence"] += 1
            other = other_sentence(ex, negatives, rng) if negatives != "none" else None
            if other is not None:
                rows.append({**ex, "id": f"{ex['id']}~other", "context": ex["context"][other[0]:other[1]],
                             "answers": {"text": [], "answer_start": []}})
                n["other_sentence"] += 1
        elif s["context"] != ex["context"]:  # a one-sentence paragraph is already in training as it is
            rows.append({**ex, "id": f"{ex['id']}~sentence", "context": s["context"], "answers": s["answers"]})
            n["unanswerable_sentence"] += 1
    record = {"share": share, "negatives": negatives, "questions_drawn": len(picked), "added": n,
              "how": f"bertkit/qa/short_contexts.py: the answer's sentence; a sentence without the answer ({negatives}, "
                     "as unanswerable); an unanswerable question's closest sentence"}
    if not rows:
        return ds, record
    return concatenate_datasets([ds, Dataset.from_list(rows, features=ds.features)]), record
