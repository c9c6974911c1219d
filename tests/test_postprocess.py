import numpy as np
import pytest

from bertkit.qa.postprocess import postprocess_qa

CTX = "Paris is the capital of France."
#        tokens: CLS q SEP Paris is the capital of France . SEP
OFFS = [None, None, None, (0, 5), (6, 8), (9, 12), (13, 20), (21, 23), (24, 30), (30, 31), None]


def logits(start_at=None, end_at=None, cls=0.0, n=len(OFFS), hi=5.0):
    s, e = np.zeros(n), np.zeros(n)
    s[0] = e[0] = cls / 2
    if start_at is not None:
        s[start_at], e[end_at] = hi, hi
    return s, e


def run(starts, ends, offsets=None, ids=None, **kw):
    ids = ids or ["q"] * len(starts)
    offsets = offsets or [OFFS] * len(starts)
    return postprocess_qa([{"id": "q", "context": CTX}], ids, offsets, starts, ends, **kw)


def test_best_span_and_null_odds():
    s, e = logits(3, 3, cls=4.0)
    preds, nbest, odds, nonnull = run([s], [e])
    assert preds["q"] == nonnull["q"] == "Paris"
    assert odds["q"] == pytest.approx(4.0 - 10.0)
    assert nbest["q"][0]["text"] == "Paris" and abs(sum(x["probability"] for x in nbest["q"]) - 1) < 1e-9


def test_threshold_rule_keeps_nonnull_answer():
    s, e = logits(8, 8, cls=12.0)
    preds, _, odds, nonnull = run([s], [e])
    assert odds["q"] == pytest.approx(2.0) and preds["q"] == "" and nonnull["q"] == "France"
    preds, _, _, _ = run([s], [e], null_score_diff_threshold=2.5)
    assert preds["q"] == "France"


def test_null_is_min_over_windows_and_best_span_over_windows():
    s1, e1 = logits(3, 3, cls=20.0, hi=1.0)  # window 1: sure there is no answer here
    s2, e2 = logits(6, 8, cls=-1.0, hi=3.0)  # window 2: holds the answer
    preds, _, odds, _ = run([s1, s2], [e1, e2])
    assert preds["q"] == "capital of France" and odds["q"] == pytest.approx(-1.0 - 6.0)


def test_never_proposes_question_tokens_or_too_long_spans():
    s, e = np.zeros(len(OFFS)), np.zeros(len(OFFS))
    s[1], e[1] = 50, 50  # a question token
    s[3], e[8] = 3, 3  # 'Paris ... France': 6 tokens
    _, _, _, nonnull = run([s], [e], max_answer_length=30)
    assert nonnull["q"] == "Paris is the capital of France"
    _, _, _, nonnull = run([s], [e], max_answer_length=3)
    assert nonnull["q"] not in ("Paris is the capital of France", "")


def test_never_proposes_end_before_start():
    s, e = np.full(len(OFFS), -10.0), np.full(len(OFFS), -10.0)
    s[8], e[3] = 10, 10  # reversed pair would score 20
    s[4], e[5] = 1, 1
    _, _, _, nonnull = run([s], [e])
    assert nonnull["q"] == "is the"


def test_padded_logit_rows_are_ignored():
    """Trainer pads logits of short windows with -100 up to the batch's longest; extra positions are no tokens."""
    s, e = logits(3, 3, cls=0.0)
    s, e = np.concatenate([s, [-100, 500]]), np.concatenate([e, [-100, 500]])
    preds, _, _, _ = run([s], [e])
    assert preds["q"] == "Paris"


def test_missing_windows_is_an_error():
    with pytest.raises(ValueError, match="no window"):
        postprocess_qa([{"id": "other", "context": CTX}], ["q"], [OFFS], [np.zeros(11)], [np.zeros(11)])


def test_a_span_restating_the_question_is_cut_to_its_answer():
    """The tutorial's demo as a model may answer it: the whole sentence. With the cut, what follows 'is', at the
    same score and margin; without it (the function's default, as utils_qa), the span as the model gave it."""
    ctx = "The capital of France is Paris."
    offs = [None, None, None, (0, 3), (4, 11), (12, 14), (15, 21), (22, 24), (25, 30), (30, 31), None]
    s, e = logits(3, 9, cls=1.0)
    ex = [{"id": "q", "question": "What is the capital of France?", "context": ctx}]
    _, nb_raw, odds_raw, raw = postprocess_qa(ex, ["q"], [offs], [s], [e])
    _, nb_cut, odds_cut, cut = postprocess_qa(ex, ["q"], [offs], [s], [e], cut_restated_question=True)
    assert raw["q"] == "The capital of France is Paris." and cut["q"] == "Paris"
    assert nb_cut["q"][0]["offsets"] == [25, 30] and ctx[25:30] == "Paris"
    assert odds_cut == odds_raw and nb_cut["q"][0]["score"] == nb_raw["q"][0]["score"]


@pytest.mark.parametrize("question, span, kept", [
    ("What is the capital of China?", "The capital of China is Beijing.", "Beijing"),
    ("What is the capital of China?", "the capital of China was Beijing", "Beijing"),  # the verb need not be asked
    ("What was the fort to be named?", "Fort Duquesne", "Fort Duquesne"),  # no verb: names stay whole
    ("What is the capital of China?", "Beijing is the capital", "Beijing is the capital"),  # opens with the answer
    ("What is the capital?", "The capital is", "The capital is"),  # something always stays
    ("Which country?", "the U.S.", "the U.S."),  # abbreviations keep their stop
    ("Who made it?", "Acme Inc.", "Acme Inc."),
    ("Who appoints them?", "the Sovereign,", "the Sovereign"),
])
def test_cut_restatement(question, span, kept):
    from bertkit.qa.restatement import cut_restatement
    ctx = f"Before. {span} After."
    a = ctx.index(span)
    s, e = cut_restatement(question, ctx, a, a + len(span))
    assert ctx[s:e] == kept
