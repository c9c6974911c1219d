import pytest

from bertkit.data.squad import read_squad_rows
from bertkit.qa.scoring import apply_threshold, best_threshold, calibrate_threshold, compute_exact, compute_f1, normalize_answer, squad_v2_metrics


def ex(qid, *answers):
    return {"id": qid, "answers": {"text": list(answers), "answer_start": [0] * len(answers)}}


def test_normalisation_and_token_f1():
    assert normalize_answer("The Broncos,  an  NFL team!") == "broncos nfl team"
    assert compute_exact("Denver Broncos", "the denver broncos.") == 1
    assert compute_f1("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert compute_f1("", "") == 1.0 and compute_f1("", "x") == 0.0 and compute_f1("x", "") == 0.0


def test_metrics_split_and_max_over_golds():
    exs = [ex("a", "Denver Broncos", "Broncos"), ex("b"), ex("c", "1990")]
    m = squad_v2_metrics(exs, {"a": "broncos", "b": "", "c": "in 1990"}, {"a": "broncos", "b": "x", "c": "in 1990"},
                         {"a": -3.0, "b": 1.0, "c": -1.0})
    assert (m["total"], m["HasAns_total"], m["NoAns_total"]) == (3, 2, 1)
    assert m["HasAns_exact"] == 50.0 and m["NoAns_exact"] == 100.0
    assert m["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert m["exact"] == pytest.approx(200 / 3)
    # threshold between 'c' (-1) and 'b' (1): answer a and c, abstain on b
    assert m["best_f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 3) and m["best_f1_thresh"] == -1.0


def test_threshold_search_uses_nonnull_predictions():
    """Searching thresholded predictions is one-sided: an over-cautious model could never recover."""
    exs = [ex("a", "cat"), ex("b", "dog"), ex("c")]
    odds = {"a": 0.5, "b": 0.6, "c": 2.0}  # a threshold of 0 said "no answer" to everything
    preds = {q: "" for q in odds}
    nonnull = {"a": "cat", "b": "dog", "c": "mouse"}
    m = squad_v2_metrics(exs, preds, nonnull, odds)
    assert m["exact"] == pytest.approx(100 / 3)
    assert m["best_exact"] == 100.0 and m["best_exact_thresh"] == 0.6
    has = {"a": True, "b": True, "c": False}
    one_sided, _ = best_threshold(preds, {"a": 0, "b": 0, "c": 1}, odds, has)
    assert one_sided == pytest.approx(100 / 3)


def test_missing_prediction_is_an_error():
    with pytest.raises(KeyError, match="b"):
        squad_v2_metrics([ex("a", "x"), ex("b")], {"a": "x"})


def test_no_answer_everywhere_on_real_dev(dev_file):
    rows = read_squad_rows(dev_file)
    m = squad_v2_metrics(rows, {r["id"]: "" for r in rows})
    assert (m["total"], m["HasAns_total"], m["NoAns_total"]) == (11873, 5928, 5945)
    assert round(m["exact"], 4) == round(m["f1"], 4) == 50.0716
    assert m["HasAns_f1"] == 0.0 and m["NoAns_exact"] == 100.0


def test_gold_answers_on_real_dev_score_perfectly(dev_file):
    rows = read_squad_rows(dev_file)
    preds = {r["id"]: (r["answers"]["text"][0] if r["answers"]["text"] else "") for r in rows}
    m = squad_v2_metrics(rows, preds, preds, {q: 0.0 for q in preds})
    assert m["exact"] == m["f1"] == 100.0


def _ex(qid, answer):
    return {"id": qid, "answers": {"text": [answer] if answer else [], "answer_start": [0] if answer else []}}


def test_calibrated_threshold_sits_between_answered_and_abstained():
    ex = [_ex("a", "x"), _ex("b", ""), _ex("c", "y"), _ex("d", "")]
    nonnull = {"a": "x", "b": "z", "c": "y", "d": "w"}
    odds = {"a": -3.0, "c": -1.0, "b": 1.0, "d": 2.0}  # answer a and c, abstain on b and d: F1 100
    cal = calibrate_threshold(ex, nonnull, odds)
    assert cal["value"] == 0.0 and cal["f1"] == 100.0 and cal["answered_share"] == 0.5
    preds = apply_threshold(nonnull, odds, cal["value"])
    assert squad_v2_metrics(ex, preds)["f1"] == 100.0


def test_calibrated_threshold_when_answering_nothing_wins():
    """The official search reports 0.0 then; a calibrated threshold must abstain on every question instead."""
    ex = [_ex("a", "x"), _ex("b", ""), _ex("c", "")]
    nonnull, odds = {"a": "wrong", "b": "z", "c": "w"}, {"a": -5.0, "b": -4.0, "c": -3.0}
    cal = calibrate_threshold(ex, nonnull, odds)
    assert cal["value"] < -5.0 and cal["answered_share"] == 0.0
    assert set(apply_threshold(nonnull, odds, cal["value"]).values()) == {""}
    assert cal["f1"] == pytest.approx(200 / 3)


def _synthetic(n, seed, span_f1=0.7):
    """Questions whose null odds separate answerable from not (normal, sd 1.5, means -1 / +1); the best span is
    right with probability span_f1. Returns (examples, nonnull, odds)."""
    import numpy as np
    r = np.random.default_rng(seed)
    has = r.random(n) < 0.5
    x = np.where(has, r.normal(-1, 1.5, n), r.normal(1, 1.5, n))
    good = r.random(n) < span_f1
    ex = [_ex(f"q{i}", "gold" if has[i] else "") for i in range(n)]
    return ex, {f"q{i}": "gold" if good[i] else "bad" for i in range(n)}, {f"q{i}": float(x[i]) for i in range(n)}


def test_expected_gain_threshold_is_as_right_and_less_noisy_than_max_f1():
    """On 300 questions drawn 40 times from one model: both methods centre on the best cut for that model
    (found on 50,000 questions), and the fitted one scatters less."""
    import numpy as np
    truth = calibrate_threshold(*_synthetic(50_000, 999))["value"]
    got = {m: [calibrate_threshold(*_synthetic(300, s), method=m)["value"] for s in range(40)]
           for m in ("max_f1", "expected_gain")}
    for m, v in got.items():
        assert abs(np.mean(v) - truth) < 0.15, (m, np.mean(v), truth)
    assert np.std(got["expected_gain"]) < 0.7 * np.std(got["max_f1"])
    cal = calibrate_threshold(*_synthetic(300, 0), method="expected_gain")
    assert cal["method_used"] == "expected_gain" and cal["max_f1_value"] != cal["value"]
    preds = apply_threshold(_synthetic(300, 0)[1], _synthetic(300, 0)[2], cal["value"])
    assert squad_v2_metrics(_synthetic(300, 0)[0], preds)["f1"] == pytest.approx(cal["f1"])


def test_expected_gain_falls_back_where_the_odds_say_nothing():
    """Odds that rise with answerability (or too few questions of a kind): the F1-maximising cut, recorded so."""
    ex, nonnull, odds = _synthetic(300, 1)
    flipped = {q: -v for q, v in odds.items()}
    cal = calibrate_threshold(ex, nonnull, flipped, method="expected_gain")
    assert cal["method_used"] == "max_f1" and cal["expected_gain_value"] is None
    few = calibrate_threshold(ex[:12], nonnull, odds, method="expected_gain")
    assert few["method_used"] == "max_f1"
    with pytest.raises(ValueError, match="not one of"):
        calibrate_threshold(ex, nonnull, odds, method="median")


def test_answer_floor_raises_a_cautious_threshold_only():
    """--calibration_answer_floor: where the method answers fewer than floor x the answerable questions, the
    threshold rises to answer that many, the surest first; where it answers more, it stays as it is."""
    ex = [_ex("a", "x"), _ex("b", ""), _ex("c", "y"), _ex("d", ""), _ex("e", "z"), _ex("f", "")]
    nonnull = {"a": "x", "b": "z", "c": "wrong", "d": "w", "e": "wrong", "f": "v"}
    odds = {"a": -3.0, "b": -2.0, "c": -1.0, "d": 0.5, "e": 1.0, "f": 2.0}
    plain = calibrate_threshold(ex, nonnull, odds)  # answering "a" alone wins
    assert plain["answered_share"] == pytest.approx(1 / 6) and "answer_floor" not in plain
    raised = calibrate_threshold(ex, nonnull, odds, answer_floor=0.75)  # ceil(0.75 x 3) = 3 answered: a, b, c
    assert raised["value"] == pytest.approx(-0.25) and raised["answered_share"] == 0.5 and raised["floor_raised"]
    assert raised["f1"] == pytest.approx(100 * (1 + 2) / 6)  # a right, d and f abstained
    kept = calibrate_threshold(ex, nonnull, odds, answer_floor=0.2)  # one answered already meets it
    assert kept["value"] == plain["value"] and not kept["floor_raised"]
