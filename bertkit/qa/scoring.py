"""SQuAD v2.0 scoring by the official rules (evaluate-v2.0.py semantics), offline.

exact/f1 and the HasAns/NoAns splits score `predictions` as given ("" = no answer). best_* run the
official threshold search over the *non-null* predictions with `null_odds` as the no-answer probability:
searching the already-thresholded predictions could never recover from a threshold set too low.
"""
from __future__ import annotations

import collections
import math
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


def answer_gain(answerable: bool, span_score, nonempty: bool):
    """What answering a question with its best span adds to the score of leaving it blank: the span's score on an
    answerable question, -1 on an unanswerable one (0 where the answer given is empty)."""
    return span_score if answerable else (-1 if nonempty else 0)


def sweep(has_ans, span_scores, answered_nonempty=None) -> list:
    """The one threshold sweep: the summed score (F1 or EM, one point per question) as the questions, given in
    order of rising null odds, are answered one by one: [nothing answered, the first answered, the first two, ...].
    answered_nonempty[i]: whether question i's best span counts as an answer (None: every one does)."""
    cur = sum(1 for h in has_ans if not h)
    totals = [cur]
    for i, (h, s) in enumerate(zip(has_ans, span_scores)):
        cur += answer_gain(h, s, answered_nonempty is None or answered_nonempty[i])
        totals.append(cur)
    return totals


def best_cut(totals: list) -> int:
    """Index into sweep()'s totals of its best score, the first one where several tie (fewest answered)."""
    return max(range(len(totals)), key=totals.__getitem__)


def place_cut(odds, cut: int) -> float:
    """The threshold that answers the questions up to index `cut` of `odds` (sorted, rising; -1: none) and no
    other: halfway to the next odds value (not on a question's own value), 1 below them all or 1 above them all."""
    if cut < 0:
        return odds[0] - 1.0
    if cut == len(odds) - 1:
        return odds[-1] + 1.0
    return (odds[cut] + odds[cut + 1]) / 2


def best_threshold(preds: dict, scores: dict, na_probs: dict, has_ans: dict):
    """Official search: answer the questions in order of rising no-answer probability; keep the best cut."""
    order = sorted(scores, key=lambda q: na_probs[q])
    totals = sweep([has_ans[q] for q in order], [scores[q] for q in order],
                   [has_ans[q] or bool(preds[q]) for q in order])
    i = best_cut(totals)
    return 100.0 * totals[i] / len(scores), float(na_probs[order[i - 1]] if i else 0.0)


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


CALIBRATION_METHODS = ("max_f1", "expected_gain")


def calibration_inputs(examples, nonnull_predictions: dict, null_odds: dict):
    """(ids sorted by null odds, their odds, answerable?, F1 of answering: the best span's F1, 0 if unanswerable)."""
    examples = list(examples)
    has_ans = {ex["id"]: bool(gold_answers(ex["answers"])[0]) for ex in examples}
    _, f1 = raw_scores(examples, nonnull_predictions)
    order = sorted(has_ans, key=lambda q: null_odds[q])
    return (order, [float(null_odds[q]) for q in order], [has_ans[q] for q in order],
            [f1[q] if has_ans[q] else 0.0 for q in order])


def cut_max_f1(odds, has_ans, span_f1, answered_nonempty=None) -> tuple[int, float]:
    """(index of the last question answered in odds order, -1 for none; F1 %) maximising F1 on these questions."""
    totals = sweep(has_ans, span_f1, answered_nonempty)
    i = best_cut(totals)
    return i - 1, 100.0 * totals[i] / len(odds)


def _logistic(x, y, iters=50):
    """(a, b) of P = sigmoid(a + b x) fitted to targets y in [0, 1] by Newton's method (a tiny ridge keeps it
    finite when the classes separate)."""
    import numpy as np
    x, y = np.asarray(x, float), np.asarray(y, float)
    mu, sd = x.mean(), x.std() or 1.0
    z = (x - mu) / sd
    w = np.zeros(2)
    X = np.stack([np.ones_like(z), z], axis=1)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(X @ w)))
        h = X.T @ (X * (p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        step = np.linalg.solve(h, X.T @ (p - y) + 1e-3 * w)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[0] - w[1] * mu / sd, w[1] / sd


def cut_expected_gain(odds, has_ans, span_f1) -> float | None:
    """The threshold at which answering stops paying in expectation, from two smooth fits on these questions:
    P(answerable | odds) (logistic) and the F1 of the best span given answerable (logistic on the F1s). A
    question is answered when P * F1 > 1 - P. Fewer degrees of freedom than the F1-maximising cut, so less
    noisy on a few hundred questions. None when the fits cannot say (too few questions of one kind, or odds
    that do not fall with answerability)."""
    import numpy as np
    x, h, f = np.asarray(odds, float), np.asarray(has_ans, bool), np.asarray(span_f1, float)
    if h.sum() < 10 or (~h).sum() < 10:
        return None
    a1, b1 = _logistic(x, h)
    a2, b2 = _logistic(x[h], f[h])
    if b1 >= 0:  # a higher null score does not mean "no answer" more often: the odds carry no signal
        return None
    lo, hi = x.min() - 1.0, x.max() + 1.0
    grid = np.linspace(lo, hi, 4001)
    p, s = 1 / (1 + np.exp(-(a1 + b1 * grid))), 1 / (1 + np.exp(-(a2 + b2 * grid)))
    stops = np.flatnonzero(p * s - (1 - p) <= 0)  # where answering no longer pays, from the most sure spans up
    return float(hi if len(stops) == 0 else grid[stops[0]])


def floor_value(odds, has_ans, floor: float) -> float:
    """The threshold that answers at least `floor` x as many of these questions (odds sorted, rising) as are
    answerable, the surest first: a floor under the F1 rules, which on one or two held-out articles can come out
    cautious enough to answer almost nothing (measured: results/learning_curve/README.md)."""
    return place_cut(odds, math.ceil(floor * sum(has_ans)) - 1)


def calibrate_threshold(examples, nonnull_predictions: dict, null_odds: dict, method: str = "max_f1",
                        answer_floor: float | None = None) -> dict:
    """The no-answer threshold for other questions, chosen on these (held-out) ones.

    max_f1: the cut that maximises F1 here. The official search answers the questions whose odds are <= the
    cut; we place the cut halfway to the next odds value (not on a question's own value), and below every odds
    value when answering nothing wins (the official search reports 0.0 there, which would answer about half of
    new questions). expected_gain: cut_expected_gain (falls back to max_f1 where its fits cannot say).
    answer_floor: the threshold rises to floor_value where the method's answers fewer. Both methods' values are
    recorded; `value` is the chosen one's (after the floor), `f1` and `answered_share` its F1 and share here.
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration method {method!r} is not one of {', '.join(CALIBRATION_METHODS)}")
    order, odds, has_ans, span_f1 = calibration_inputs(examples, nonnull_predictions, null_odds)
    nonempty = [bool(nonnull_predictions[q]) for q in order]
    cut, _ = cut_max_f1(odds, has_ans, span_f1, nonempty)
    max_f1_value = place_cut(odds, cut)
    gain_value = cut_expected_gain(odds, has_ans, span_f1)
    used = method if method == "max_f1" or gain_value is not None else "max_f1"
    value = max_f1_value if used == "max_f1" else gain_value
    floor = floor_value(odds, has_ans, answer_floor) if answer_floor else None
    raised = floor is not None and floor > value
    value = floor if raised else value
    answered = sum(1 for x in odds if x <= value)
    f1 = sum(answer_gain(h, s, e) for x, h, s, e in zip(odds, has_ans, span_f1, nonempty) if x <= value)
    f1 = 100.0 * (f1 + sum(1 for h in has_ans if not h)) / len(order)
    return {"value": float(value), "method_used": used, "max_f1_value": float(max_f1_value),
            "expected_gain_value": gain_value, "f1": f1, "n_questions": len(order),
            "n_answerable": sum(has_ans), "answered_share": answered / len(order),
            **({"answer_floor": answer_floor, "answer_floor_value": floor, "floor_raised": raised}
               if floor is not None else {})}


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
            "longer: the default scripts/finetune_subset.sh (docs/results.md)")
