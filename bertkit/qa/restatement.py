"""A span that restates the question, cut to its answer: "The capital of China is Beijing" -> "Beijing".

Asked "What is the capital of China?" about "The capital of China is Beijing.", a SQuAD-trained model may take
the whole sentence as its span. SQuAD's answers never repeat the question, so where a span opens with words that
are all in the question (articles and punctuation aside) up to "is", "are", "was" or "were", the answer is what
follows that verb. Only that case: cutting any opening words found in the question also cuts names ("Fort
Duquesne" asked "What was the fort to be named?"); this cut leaves the learning curve's recorded paragraph F1
as it was (docs/results.md, "Spans that restate the question").

A span's last comma, semicolon or colon, and a sentence's full stop after a word of four or more letters
("Beijing." but not "U.S." or "Inc."), are dropped too: SQuAD's scoring ignores them, a reader sees them.
The score and the no-answer margin stay the span's own; only its offsets move.
"""
from __future__ import annotations

import re

from .scoring import normalize_answer

COPULAS = frozenset({"is", "are", "was", "were"})
_WORD = re.compile(r"\S+")


def cut_restatement(question: str, context: str, a: int, b: int) -> tuple[int, int]:
    """[a, b) of `context` without an opening that restates `question` up to a copula, and without its trailing
    punctuation (above); at least one word always stays."""
    words = [(a + m.start(), a + m.end()) for m in _WORD.finditer(context[a:b])]
    asked = set(normalize_answer(question).split())
    cut = 0
    for k, (s, e) in enumerate(words[:-1]):  # never the last word: something must stay
        w = normalize_answer(context[s:e])
        if w in COPULAS and k > 0:
            cut = k + 1
        if w and w not in asked:
            break
    if cut:
        a = words[cut][0]
    text = context[a:b]
    if text[-1:] in (",", ";", ":"):
        b -= 1
    elif text.endswith(".") and b - a > 1:
        last = text.split()[-1][:-1]
        if len(last) >= 4 and last.isalpha():
            b -= 1
    return a, b
