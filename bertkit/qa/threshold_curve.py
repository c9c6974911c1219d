"""F1 and EM of a SQuAD 2.0 run against its no-answer threshold, from the files the run wrote.

At threshold t a question gets its best span when null score - best span score (its null_odds) <= t, and
"no answer" otherwise: bertkit.qa.postprocess's rule. The curve is evaluated at every distinct null_odds value
(plus one below them all: nothing answered), so its maximum is the official best_f1 (bertkit.qa.scoring).
Gold answers come from the SQuAD file the run was scored on, found from its results JSON.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..results.record import REPO
from .scoring import compute_exact, compute_f1, gold_answers, normalize_answer, place_cut, sweep


def curve(null_odds: dict, nonnull: dict, golds: dict) -> dict:
    """{"thresholds", "f1", "exact"} (lists, %, thresholds rising); golds: id -> gold_answers(...) list."""
    qids = sorted(null_odds, key=lambda q: null_odds[q])
    n = len(qids)
    odds = [null_odds[q] for q in qids]
    has = [bool(golds[q][0]) for q in qids]
    # an unanswerable question keeps its point when its span normalises to nothing, as the F1 and EM rules score it
    nonempty = [bool(normalize_answer(nonnull[q])) for q in qids]

    def spans(score):  # each answerable question's best span, scored against its golds
        return [max(score(g, nonnull[q]) for g in golds[q]) if h else 0 for q, h in zip(qids, has)]

    f1, ex = sweep(has, spans(compute_f1), nonempty), sweep(has, spans(compute_exact), nonempty)
    # one point per distinct threshold (ties: after the last of them), after one below them all: nothing answered
    keep = [0] + [i + 1 for i in range(n) if i + 1 == n or odds[i + 1] != odds[i]]
    return {"thresholds": [place_cut(odds, -1)] + [odds[i - 1] for i in keep[1:]],
            "f1": [100 * f1[i] / n for i in keep], "exact": [100 * ex[i] / n for i in keep]}


def value_at(c: dict, key: str, t: float) -> float:
    """The curve's `key` at threshold t (a step function: the last point at or below t)."""
    i = max((j for j, x in enumerate(c["thresholds"]) if x <= t), default=0)
    return c[key][i]


def ids_digest(ids) -> str:
    """Fingerprint of a question set (the results' data.*.ids_sha256): a baseline and its fine-tuned run, and a
    run and the gold answers found for its curve, must match on it."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _candidates(result: dict) -> list[Path]:
    from ..data.files import data_dir
    data = result.get("data") if isinstance(result.get("data"), dict) else {}
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    given = [data.get("validation_file"), (files.get("validation") or {}).get("path")]
    out = []
    for p in given:
        if isinstance(p, str) and p:
            out += [Path(p)] if Path(p).is_absolute() else [REPO / p, Path(p)]
    out.append(data_dir() / "squad_v2" / "dev-v2.0.json.gz")  # the official dev file, where the scripts keep it
    return out


_GOLDS: dict = {}  # file -> {id: golds}: a baseline and its fine-tuned run share one file


def find_golds(result: dict, ids) -> tuple[dict | None, str]:
    """(golds for `ids`, where from) or (None, why not). The file must hold every id, and when the run
    recorded data.eval.ids_sha256 the ids must match it (the same questions, not just some of them)."""
    ids = list(ids)
    want = ((result.get("data") or {}).get("eval") or {}).get("ids_sha256") if isinstance(result.get("data"), dict) else None
    if want and ids_digest(ids) != want:
        return None, "the prediction files' question ids differ from the run's data.eval.ids_sha256"
    tried = []
    for path in _candidates(result):
        key = str(path.resolve())
        if key in tried or not path.is_file():
            continue
        tried.append(key)
        if key not in _GOLDS:
            from ..data.squad import read_squad  # imports `datasets`: only when a curve is drawn
            try:
                rows, _ = read_squad(str(path), skip_bad_answers=True)
            except Exception as e:  # a file we cannot read is one more place the golds are not
                _GOLDS[key] = e
                continue
            _GOLDS[key] = {r["id"]: gold_answers(r["answers"]) for r in rows}
        table = _GOLDS[key]
        if isinstance(table, dict) and all(q in table for q in ids):
            return {q: table[q] for q in ids}, str(path)
    return None, ("no SQuAD file holding the run's questions (looked at: "
                  + (", ".join(tried) or "none of the recorded paths exist") + ")")


def run_curve(result: dict, results_dir=None) -> tuple[dict | None, str]:
    """(curve, note) for a SQuAD results JSON, or (None, why not). output_dir is repo-relative as the runs
    write it; a results folder copied elsewhere is looked in too (its <results_dir>/<run folder name>)."""
    out = result.get("output_dir")
    if not isinstance(out, str) or not out:
        return None, "no output_dir in the results"
    places = [Path(out)] if Path(out).is_absolute() else [REPO / out]
    if results_dir is not None:
        places.append(Path(results_dir) / Path(out).name)
    folder = next((p for p in places if (p / "null_odds.json").is_file()), places[0])
    try:
        odds = json.loads((folder / "null_odds.json").read_text())
        nonnull = json.loads((folder / "nonnull_predictions.json").read_text())
    except (OSError, ValueError) as e:
        return None, f"prediction files not readable in {out} ({type(e).__name__})"
    if not odds or set(odds) != set(nonnull):
        return None, f"{out}: null_odds.json and nonnull_predictions.json do not cover the same questions"
    golds, where = find_golds(result, odds)
    if golds is None:
        return None, where
    return curve(odds, nonnull, golds), f"gold answers from {where}"
