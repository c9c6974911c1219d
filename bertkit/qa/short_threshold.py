"""A second no-answer threshold for short contexts (a sentence or two, as users paste into ask.py and the page).

The null-minus-span margin of one sentence is not that of a paragraph: a threshold calibrated on paragraphs
abstains on most one-sentence contexts whose sentence holds the answer (measured: docs/results.md, issue 30). So
the calibration questions are asked again with one sentence each (bertkit.qa.robustness.short_context: the
answer's sentence, else the closest one), the same way ask.py asks (bertkit.qa.inference.answer), and a
threshold is chosen on them by the same method. It applies to contexts of at most MAX_WORDS words; paragraph
metrics keep the paragraph threshold.
"""
from __future__ import annotations

MAX_WORDS = 50  # a sentence or two; a SQuAD paragraph is usually several sentences


def is_short(context: str, max_words: int = MAX_WORDS) -> bool:
    return len(context.split()) <= max_words


def threshold_for(context: str, value: float, short: dict | None) -> float:
    """The threshold one context is asked at: `short["value"]` for a short context where there is one."""
    return short["value"] if short and is_short(context, short.get("max_words", MAX_WORDS)) else value


def calibrate_short(model, tokenizer, examples, method: str, answer_floor: float | None = None, **windows) -> dict:
    """The threshold `method` chooses on the one-sentence contexts of `examples` (the held-out calibration
    questions), with its record (F1 and answered share there, counts)."""
    from .inference import answer
    from .robustness import short_context
    from .scoring import calibrate_threshold
    items = [short_context(ex) for ex in examples]
    res = answer(model, tokenizer, [x["question"] for x in items], [x["context"] for x in items],
                 null_score_diff_threshold=0.0, **windows)
    cal = calibrate_threshold(items, {x["id"]: r["best_span"] for x, r in zip(items, res)},
                              {x["id"]: r["null_odds"] for x, r in zip(items, res)}, method, answer_floor)
    return {"value": cal["value"], "max_words": MAX_WORDS, "method_used": cal["method_used"], "f1": cal["f1"],
            "n_questions": cal["n_questions"], "n_answerable": cal["n_answerable"],
            "answered_share": cal["answered_share"],
            **{k: cal[k] for k in ("answer_floor", "answer_floor_value", "floor_raised") if k in cal},
            "description": f"chosen the same way on the calibration questions, each asked with one sentence of its "
                           f"paragraph (bertkit/qa/short_threshold.py); used for contexts of at most {MAX_WORDS} words"}
