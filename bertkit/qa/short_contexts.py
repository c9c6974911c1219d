"""--short_context_share: training questions asked again with one sentence of their paragraph as the whole
context, so that the model meets the short texts users paste (bertkit.qa.robustness measures them):

- an answerable question with the sentence(s) holding its first answer: a span to find in a short context;
- the same question with a sentence of its paragraph that holds none of its answers, as "no answer": drawn at
  random (--short_context_negatives random), or the one sharing the most words with the question (closest; it
  teaches that a sentence repeating the question's words holds no answer, and the tutorial's demo is one:
  measured in docs/results.md), either of the two by a seeded coin (mixed), or none;
- an unanswerable question with its closest sentence: still no answer;
- with --short_context_swap, the answerable question once more with its answer's sentence, but one of its names
  or numbers that the sentence also holds swapped for another of its paragraph's ("What is the capital of
  China?" -> "... of Japan?"), as "no answer": SQuAD 2.0's unanswerable questions are often written that way,
  a plausible answer in a sentence that matches the question but for one word.

Drawn from the training questions only (after the calibration hold-out and the training subset), a seeded share
of them; the copies' ids end in "~sentence" / "~other" / "~swap" so no id repeats.
"""
from __future__ import annotations

import re

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


_NAME = re.compile(r"\b(?:[A-Z][\w'-]*|\d[\d,.]*)\b")  # a capitalised word or a number


def swapped_question(question: str, sentence: str, context: str, answers: list[str], rng) -> str | None:
    """`question` with one of its names or numbers that `sentence` also holds (not its first word, not part of an
    answer) replaced by another of `context`'s that neither the sentence nor the question holds, the same kind
    (name for name, number for number); None where there is no such pair."""
    in_answer = {w for t in answers for w in _NAME.findall(t)}
    held = set(_NAME.findall(sentence))
    found = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group() in held and m.group() not in in_answer]
    if not found:
        return None
    m = found[int(rng.integers(len(found)))]
    is_number = m.group()[0].isdigit()
    pool = sorted({w.group() for w in _NAME.finditer(context) if w.group() not in held and w.group() not in question
                   and w.group()[0].isdigit() == is_number and len(w.group()) > 1
                   and context[:w.start()].rstrip()[-1:] not in ("", ".", "!", "?", '"', "(")})  # not "They", "The"
    if not pool:
        return None
    return question[:m.start()] + pool[int(rng.integers(len(pool)))] + question[m.end():]


def add_short_contexts(ds, share: float, seed: int, negatives: str = "random", swap: bool = False):
    """`ds` with the sentence copies of a seeded `share` of its questions appended; and their counts."""
    from datasets import Dataset, concatenate_datasets
    rng = np.random.default_rng(seed + 30)  # its own draw: the training subset's order is left as it was
    picked = np.sort(rng.permutation(len(ds))[:int(round(share * len(ds)))])
    rows, n = [], {"answer_sentence": 0, "other_sentence": 0, "unanswerable_sentence": 0, "swapped_question": 0}
    for ex in ds.select(picked).to_list() if len(picked) else []:
        s = short_context(ex)
        if ex["answers"]["text"]:
            if s["answers"]["text"] and s["context"] != ex["context"]:  # shorter, with the answer inside
                rows.append({**ex, "id": f"{ex['id']}~sentence", "context": s["context"], "answers": s["answers"]})
                n["answer_sentence"] += 1
                q = swapped_question(ex["question"], s["context"], ex["context"], ex["answers"]["text"], rng) if swap else None
                if q is not None:
                    rows.append({**ex, "id": f"{ex['id']}~swap", "question": q, "context": s["context"],
                                 "answers": {"text": [], "answer_start": []}})
                    n["swapped_question"] += 1
            other = other_sentence(ex, negatives, rng) if negatives != "none" else None
            if other is not None:
                rows.append({**ex, "id": f"{ex['id']}~other", "context": ex["context"][other[0]:other[1]],
                             "answers": {"text": [], "answer_start": []}})
                n["other_sentence"] += 1
        elif s["context"] != ex["context"]:  # a one-sentence paragraph is already in training as it is
            rows.append({**ex, "id": f"{ex['id']}~sentence", "context": s["context"], "answers": s["answers"]})
            n["unanswerable_sentence"] += 1
    record = {"share": share, "negatives": negatives, "swap": swap, "questions_drawn": len(picked), "added": n,
              "how": f"bertkit/qa/short_contexts.py: the answer's sentence; a sentence without the answer ({negatives}, "
                     "as unanswerable); an unanswerable question's closest sentence"
                     + ("; the question with a name or number swapped, against its answer's sentence, as unanswerable"
                        if swap else "")}
    if not rows:
        return ds, record
    return concatenate_datasets([ds, Dataset.from_list(rows, features=ds.features)]), record
