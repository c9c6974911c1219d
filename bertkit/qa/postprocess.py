"""Window logits -> one answer per question (pure numpy; no model, no GPU).

For each question: the n best start/end pairs over all of its windows; the null score is the minimum CLS
score over its windows (the window most sure there *is* an answer decides); the question is answered ""
when `null - best_span > null_score_diff_threshold`; with an answerability head (bertkit/train/answerability.py)
its largest window logit is subtracted from that margin (null - best_span - answerable). An answer is the
context's text between its offsets, less the whitespace some tokenizers count into a token (ModernBERT's and
DeBERTa-v3's offsets start at the space before a word): the same span and score, as the context reads. With
cut_restated_question, a span that restates the question up to "is" is cut to what follows it, and loses its
trailing punctuation (bertkit/qa/restatement.py; the examples then need their question).
"""
from __future__ import annotations

import collections

import numpy as np

from ..utils.progress import progress
from .restatement import cut_restatement


def _trim(context: str, a: int, b: int) -> tuple[int, int]:
    """The span [a, b) without the whitespace at its ends."""
    while a < b and context[a].isspace():
        a += 1
    while b > a and context[b - 1].isspace():
        b -= 1
    return a, b


def postprocess_qa(examples, example_ids, offsets_col, start_logits, end_logits, n_best_size=20,
                   max_answer_length=30, null_score_diff_threshold=0.0, show_progress=False, cls_indices=None,
                   answerable_logits=None, cut_restated_question=False):
    """examples: dicts with id, context; example_ids/offsets_col: per window, the question id and the
    token -> (char start, char end) map, None off the context; cls_indices: per window, the position of its
    CLS token, whose score is the no-answer score (default 0, where BERT-style inputs have it);
    answerable_logits: per window, an answerability head's logit (None: no head); cut_restated_question: off
    by default, as Hugging Face's utils_qa (run_squad.py turns it on: DataArguments).

    start/end_logits: arrays [n_features, seq_len] (rows may be right-padded, e.g. with -100, beyond a
    window's length). Returns (predictions, nbest, null_odds, nonnull_predictions), all keyed by id.
    """
    if not len(example_ids) == len(offsets_col) == len(start_logits) == len(end_logits):
        raise ValueError(f"{len(example_ids)} windows but {len(start_logits)} logit rows")
    by_example = collections.defaultdict(list)
    for i, ex_id in enumerate(example_ids):
        by_example[ex_id].append(i)

    predictions, nbest_all, null_odds, nonnull = {}, {}, {}, {}
    # progress only where post-processing takes a while (a large eval set), not for a few seconds' work
    show = show_progress and len(examples) >= 2000
    for ex in progress(examples, total=len(examples), label="post-process", unit="questions", enabled=show):
        ex_id, context = ex["id"], ex["context"]
        if ex_id not in by_example:
            raise ValueError(f"question {ex_id} has no window: its features are missing")
        null_score, cands = None, []
        for fi in by_example[ex_id]:
            s_log, e_log, offsets = np.asarray(start_logits[fi]), np.asarray(end_logits[fi]), offsets_col[fi]
            n = len(offsets)
            c = 0 if cls_indices is None else int(cls_indices[fi])
            cls_score = float(s_log[c] + e_log[c])
            null_score = cls_score if null_score is None else min(null_score, cls_score)
            s_idx = np.argsort(s_log[:n])[::-1][:n_best_size]
            e_idx = np.argsort(e_log[:n])[::-1][:n_best_size]
            for s in s_idx:
                if offsets[s] is None:
                    continue
                for e in e_idx:
                    if offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                        continue
                    cands.append((float(s_log[s] + e_log[e]), float(s_log[s]), float(e_log[e]),
                                  *_trim(context, offsets[s][0], offsets[e][1])))
        cands.sort(key=lambda c: c[0], reverse=True)
        cands = cands[:n_best_size]
        if cut_restated_question:  # the n best only: the cut moves offsets, never a score or the ranking
            cands = [(sc, sl, el, *cut_restatement(ex["question"], context, a, b)) for sc, sl, el, a, b in cands]
        entries = [{"text": context[a:b], "score": sc, "start_logit": sl, "end_logit": el, "offsets": [a, b]}
                   for sc, sl, el, a, b in cands]
        best_nonnull = next((e for e in entries if e["text"].strip()), None)
        best_span_score = best_nonnull["score"] if best_nonnull else -1e9  # no span at all: answer ""
        diff = null_score - best_span_score
        if answerable_logits is not None:  # the window surest that the answer is in it decides, as for the null score
            diff -= max(float(answerable_logits[fi]) for fi in by_example[ex_id])
        null_odds[ex_id] = float(diff)
        nonnull[ex_id] = best_nonnull["text"] if best_nonnull else ""
        predictions[ex_id] = "" if diff > null_score_diff_threshold else nonnull[ex_id]
        entries.append({"text": "", "score": null_score, "start_logit": None, "end_logit": None, "offsets": None})
        entries.sort(key=lambda e: e["score"], reverse=True)
        scores = np.array([e["score"] for e in entries])
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        for e, p in zip(entries, probs):
            e["probability"] = float(p)
        nbest_all[ex_id] = entries
    return predictions, nbest_all, null_odds, nonnull
