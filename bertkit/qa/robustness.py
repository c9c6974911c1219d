"""Does the model answer short texts as users paste them? Two checks beside the paragraph metrics, both asked
through ask.py's code path (bertkit.qa.inference.answer, fp32, the model's windows) at the run's threshold:

- short contexts, from the run's eval questions: an answerable question with the sentence(s) holding its first
  gold answer as the whole context; an unanswerable one with the sentence of its paragraph that shares the most
  words with the question;
- plain questions: benchmarks/data/plain_questions.jsonl, one-sentence factoid questions written for this
  project (none from SQuAD), some whose sentence lacks the answer.

Reported per set: answer rate, right rate (answered with F1 >= 0.5 against a gold answer) and F1 on the
answerable ones (an abstention scores 0; best_span_f1 scores the best span whatever the threshold), and the
abstain rate on the unanswerable ones. And, beside the run's threshold, what the model's ranking allows on the
set (`reachable`, an oracle: the set's own labels choose the cut): the most it answers while still abstaining
on at least the bar's share of the unanswerable ones. Where that is below a target, no threshold reaches it.
"""
from __future__ import annotations

import json
import re

from ..results.record import REPO
from .scoring import compute_exact, compute_f1, normalize_answer

PLAIN_QUESTIONS = REPO / "benchmarks" / "data" / "plain_questions.jsonl"
RIGHT_F1 = 0.5  # an answer counts as right from this F1 on: the span found, give or take a word
# the abstain rates issue 30 asks of each set (Part 3): `reachable` reports the most the model's ranking answers there
ABSTAIN_BARS = {"short_context": 60.0, "plain_questions": 75.0}
# a full stop after these is not a sentence end ("U.S. Army", "Dr. Who", "St. Louis")
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "mt", "vs", "etc", "no", "co", "inc", "ltd", "gen", "col",
           "lt", "sgt", "capt", "rev", "prof", "fig", "approx", "ca", "c", "e.g", "i.e", "u.s", "u.k", "a.d", "b.c"}
_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"\w+")
_STOP = {"the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "and", "or", "is", "was", "are",
         "were", "be", "been", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do",
         "does", "that", "this", "it", "its", "as", "from", "than", "many", "much"}


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, covering it without its edge whitespace."""
    spans, start = [], 0
    for m in _END.finditer(text):
        word = text[:m.start() + 1].split()[-1].rstrip(".!?").lower().lstrip("\"'([")
        if text[m.start()] == "." and (word in _ABBREV or len(word) == 1):
            continue
        spans.append((start, m.start() + len(m.group().rstrip())))
        start = m.end()
    spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def short_context(ex: dict) -> dict:
    """The question with one sentence of its paragraph as the context (see the module's docstring)."""
    context, answers = ex["context"], ex["answers"]
    spans = sentences(context)
    if answers["text"]:
        a0, t0 = answers["answer_start"][0], answers["text"][0]
        cover = [s for s in spans if s[0] < a0 + len(t0) and s[1] > a0] or spans
        lo, hi = min(cover[0][0], a0), max(cover[-1][1], a0 + len(t0))  # an answer may start in the gap
        kept = [(t, s - lo) for t, s in zip(answers["text"], answers["answer_start"]) if s >= lo and s + len(t) <= hi]
        return {"id": ex["id"], "question": ex["question"], "context": context[lo:hi],
                "answers": {"text": [t for t, _ in kept], "answer_start": [s for _, s in kept]}}
    q = content_words(ex["question"])
    best = max(spans, key=lambda s: len(q & content_words(context[s[0]:s[1]])))  # first of the ties
    return {"id": ex["id"], "question": ex["question"], "context": context[best[0]:best[1]],
            "answers": {"text": [], "answer_start": []}}


def read_plain_questions(path=PLAIN_QUESTIONS) -> list[dict]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [{"id": r["id"], "question": r["question"], "context": r["context"],
             "answers": {"text": [r["answer"]] if r["answer"] else [], "answer_start": []}} for r in rows]


def score(items: list[dict], results: list[dict]) -> dict:
    """The set's rates (percent) from ask.py-style results, one per item, in order."""
    ans = [(r, it["answers"]["text"]) for it, r in zip(items, results) if it["answers"]["text"]]
    un = [r for it, r in zip(items, results) if not it["answers"]["text"]]

    def f1(pred, golds):
        return max(compute_f1(g, pred) for g in golds) if normalize_answer(pred) else 0.0

    def pct(xs):
        xs = list(xs)
        return round(100.0 * sum(xs) / len(xs), 2) if xs else None
    return {"answerable": len(ans), "unanswerable": len(un),
            "answer_rate": pct(bool(r["answer"]) for r, _ in ans),
            "right_rate": pct(f1(r["answer"], g) >= RIGHT_F1 for r, g in ans),
            "exact": pct(max(compute_exact(x, r["answer"]) for x in g) for r, g in ans),
            "f1": pct(f1(r["answer"], g) for r, g in ans),
            "best_span_f1": pct(f1(r["best_span"], g) for r, g in ans),
            "abstain_rate": pct(not r["answer"] for r in un)}


def reachable(items: list[dict], results: list[dict], abstain_bar: float) -> dict | None:
    """At the highest threshold (answered where null_odds <= it) that still abstains on at least `abstain_bar`
    percent of the unanswerable items: that threshold and the set's rates there (None without both kinds)."""
    golds = [it["answers"]["text"] for it in items]
    odds = [float(r["null_odds"]) for r in results]
    un = sorted(o for o, g in zip(odds, golds) if not g)
    if not un or len(un) == len(odds):
        return None
    k = int(len(un) * (1 - abstain_bar / 100.0) + 1e-9)  # at most k unanswerable answered
    stop = un[k] if k < len(un) else float("inf")  # answering below the (k+1)-th smallest margin keeps to k
    kept = [o for o in odds if o < stop]
    below = max(kept) if kept else stop - 1.0
    out = score(items, [{**r, "answer": r["best_span"] if o <= below else ""} for r, o in zip(results, odds)])
    return {"abstain_bar": abstain_bar, "threshold": round(below, 4),
            **{key: out[key] for key in ("answer_rate", "right_rate", "f1", "abstain_rate")}}


def robustness(model, tokenizer, eval_examples, threshold: float, short: dict | None = None, **windows) -> dict:
    """Both checks, scored, at `threshold` (`short`'s for short contexts where given, as ask.py asks); the
    per-question answers of the plain questions kept (a short list) for reading."""
    from .inference import answer
    sentences_of_eval = [short_context(ex) for ex in eval_examples]
    plain = read_plain_questions()
    out = {"threshold": threshold, "short_context_threshold": short, "right_f1": RIGHT_F1}
    for name, items in (("short_context", sentences_of_eval), ("plain_questions", plain)):
        res = answer(model, tokenizer, [x["question"] for x in items], [x["context"] for x in items],
                     null_score_diff_threshold=threshold, short_context_threshold=short, **windows)
        out[name] = score(items, res)
        out[name]["reachable"] = reachable(items, res, ABSTAIN_BARS[name])
        if name == "plain_questions":
            out[name]["answers"] = {x["id"]: {"answer": r["answer"], "best_span": r["best_span"],
                                              "null_odds": round(r["null_odds"], 3)} for x, r in zip(items, res)}
    out["short_context"]["source"] = "the run's eval questions, one sentence each (bertkit/qa/robustness.py)"
    out["plain_questions"]["source"] = str(PLAIN_QUESTIONS.relative_to(REPO))
    return out
