"""SQuAD v2.0 scoring by the official rules (evaluate-v2.0.py semantics), offline.

exact/f1 and the HasAns/NoAns splits score `predictions` as given ("" = no answer). best_* run the
official threshold search over the *non-null* predictions with `null_odds` as the no-answer probability:
searching the already-thresholded predictions could never recover from a threshold set too low.
"""
from __future__ import annotations

import collections
import re
import string

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s: str) -> str:
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def compute_exact(gold: str, pred: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(pred))


def compute_f1(gold: str, pred: str) -> float:
    g, p = normalize_answer(gold).split(), normalize_answer(pred).split()
    if not g or not p:  # unanswerable gold or empty prediction: 1 only if both are empty
        return float(g == p)
    common = sum((collections.Counter(g) & collections.Counter(p)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def gold_answers(answers: dict) -> list[str]:
    golds = [t for t in answers["text"] if normalize_answer(t)]
    return golds or [""]


def raw_scores(examples, preds: dict):
    exact, f1 = {}, {}
    for ex in examples:
        qid = ex["id"]
        if qid not in preds:
            raise KeyError(f"no prediction for question {qid}")
        golds = gold_answers(ex["answers"])
        exact[qid] = max(compute_exact(g, preds[qid]) for g in golds)
        f1[qid] = max(compute_f1(g, preds[qid]) for g in golds)
    return exact, f1


def _mean(scores: dict, ids) -> float:
    ids = list(ids)
    return 100.0 * sum(scores[i] for i in ids) / len(ids) if ids else 0.0


def best_threshold(preds: dict, scores: dict, na_probs: dict, has_ans: dict):
    """Official search: answer the questions in order of rising no-answer probability; keep the best cut."""
    cur = best = sum(1 for q in scores if not has_ans[q])
    best_thresh = 0.0
    for q in sorted(scores, key=lambda q: na_probs[q]):
        cur += scores[q] if has_ans[q] else (-1 if preds[q] else 0)
        if cur > best:
            best, best_thresh = cur, na_probs[q]
    return 100.0 * best / len(scores), float(best_thresh)


def squad_v2_metrics(examples, predictions: dict, nonnull_predictions: dict | None = None,
                     null_odds: dict | None = None) -> dict:
    examples = list(examples)
    has_ans = {ex["id"]: bool(gold_answers(ex["answers"])[0]) for ex in examples}
    exact, f1 = raw_scores(examples, predictions)
    ha = [q for q in has_ans if has_ans[q]]
    na = [q for q in has_ans if not has_ans[q]]
    m = {"exact": _mean(exact, has_ans), "f1": _mean(f1, has_ans), "total": len(has_ans),
         "HasAns_exact": _mean(exact, ha), "HasAns_f1": _mean(f1, ha), "HasAns_total": len(ha),
         "NoAns_exact": _mean(exact, na), "NoAns_f1": _mean(f1, na), "NoAns_total": len(na)}
    if nonnull_predictions is not None:
        nn_exact, nn_f1 = raw_scores(examples, nonnull_predictions)
        m["nonnull_HasAns_exact"], m["nonnull_HasAns_f1"] = _mean(nn_exact, ha), _mean(nn_f1, ha)
        if null_odds is not None:
            missing = [q for q in has_ans if q not in null_odds]
            if missing:
                raise KeyError(f"no null_odds for {len(missing)} questions, e.g. {missing[0]}")
            m["best_exact"], m["best_exact_thresh"] = best_threshold(nonnull_predictions, nn_exact, null_odds, has_ans)
            m["best_f1"], m["best_f1_thresh"] = best_threshold(nonnull_predictions, nn_f1, null_odds, has_ans)
    return m


def apply_threshold(nonnull_predictions: dict, null_odds: dict, threshold: float) -> dict:
    """The predictions at a no-answer threshold: "" where null score - best span score > threshold."""
    return {q: "" if null_odds[q] > threshold else a for q, a in nonnull_predictions.items()}


def calibrate_threshold(examples, nonnull_predictions: dict, null_odds: dict) -> dict:
    """The no-answer threshold that maximises F1 on these (held-out) questions, for use on other questions.

    The official search answers the questions whose odds are <= the cut; we place the cut halfway to the next
    odds value (not on a question's own value), and below every odds value when answering nothing wins (the
    official search reports 0.0 there, which would answer about half of new questions).
    """
    examples = list(examples)
    has_ans = {ex["id"]: bool(gold_answers(ex["answers"])[0]) for ex in examples}
    _, f1 = raw_scores(examples, nonnull_predictions)
    order = sorted(has_ans, key=lambda q: null_odds[q])
    cur = best = sum(1 for q in order if not has_ans[q])
    cut = -1  # index of the last answered question in `order`; -1 = answer none
    for i, q in enumerate(order):
        cur += f1[q] if has_ans[q] else (-1 if nonnull_predictions[q] else 0)
        if cur > best:
            best, cut = cur, i
    odds = [null_odds[q] for q in order]
    if cut < 0:
        value = odds[0] - 1.0
    elif cut == len(order) - 1:
        value = odds[-1] + 1.0
    else:
        value = (odds[cut] + odds[cut + 1]) / 2
    return {"value": float(value), "f1": 100.0 * best / len(order), "n_questions": len(order),
            "n_answerable": sum(has_ans.values()), "answered_share": (cut + 1) / len(order)}


def abstain_note(threshold: dict | None) -> str | None:
    """One line for a model whose calibration found that answering never beats "no answer" (None otherwise).
    `threshold` is a run's null_threshold record or a saved qa_threshold.json."""
    if not threshold:
        return None
    cal = threshold.get("calibration") or {}
    if not (threshold.get("abstains_everywhere") or cal.get("answered_share") == 0):
        return None
    return ("this model did not learn which questions have no answer: on its held-out calibration questions "
            "answering never beat \"no answer\", so it abstains everywhere (its best span is still shown); train "
            "longer: the default scripts/finetune_subset.sh, README \"Results\"")
