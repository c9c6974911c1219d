"""The short-context and plain-questions checks (bertkit/qa/robustness.py): sentences split where a reader
would, each eval question's short context built from its own paragraph, the committed plain questions well
formed, and the rates counted as documented."""
import json

from bertkit.data import squad as D
from bertkit.qa.robustness import PLAIN_QUESTIONS, read_plain_questions, score, sentences, short_context


def test_sentences_split_at_sentence_ends_not_abbreviations():
    text = "Dr. Smith joined the U.S. Army in 1990. He left (briefly) in 1995! Was it 3.5 years? \"Yes.\" Then J. R. Ewing came."
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["Dr. Smith joined the U.S. Army in 1990.", "He left (briefly) in 1995!", "Was it 3.5 years?",
                   "\"Yes.\"", "Then J. R. Ewing came."]
    tail = "no full stop at the end "
    assert [tail[s:e] for s, e in sentences(tail)] == ["no full stop at the end"]


def test_short_contexts_of_the_eval_articles(dev_file):
    splits, _ = D.load_squad(validation_file=dev_file, protocol="dev-split", need_train=False)
    ev = splits["validation"]
    shorter = 0
    for ex in ev:
        sc = short_context(ex)
        assert sc["context"] and sc["context"] in ex["context"]
        shorter += len(sc["context"]) < len(ex["context"])
        if ex["answers"]["text"]:  # the first gold answer, at its shifted offset, inside one or a few sentences
            t, s = sc["answers"]["text"][0], sc["answers"]["answer_start"][0]
            assert sc["context"][s:s + len(t)] == t == ex["answers"]["text"][0]
        else:
            assert sc["answers"]["text"] == []
    assert shorter > 0.8 * len(ev)  # most paragraphs have more than one sentence


def test_plain_questions_file():
    rows = [json.loads(line) for line in open(PLAIN_QUESTIONS, encoding="utf-8")]
    assert len({r["id"] for r in rows}) == len(rows) >= 40
    answerable = [r for r in rows if r["answer"]]
    assert len(answerable) >= 30 and len(rows) - len(answerable) >= 10
    assert all(r["context"].count(r["answer"]) == 1 for r in answerable)
    assert "capital of china" not in " ".join(r["question"].lower() for r in rows)  # the demo is not part of it
    assert len(read_plain_questions()) == len(rows)


def test_rates():
    items = [{"answers": {"text": ["Paris"]}}, {"answers": {"text": ["1912"]}}, {"answers": {"text": ["Jane Austen"]}},
             {"answers": {"text": []}}, {"answers": {"text": []}}]
    res = [{"answer": "Paris", "best_span": "Paris"}, {"answer": "", "best_span": "15 April 1912"},
           {"answer": "Austen", "best_span": "Austen"}, {"answer": "", "best_span": "x"}, {"answer": "y", "best_span": "y"}]
    s = score(items, res)
    assert (s["answerable"], s["unanswerable"]) == (3, 2)
    assert s["answer_rate"] == 66.67 and s["right_rate"] == 66.67 and s["exact"] == 33.33
    assert s["f1"] == round(100 * (1 + 0 + 2 / 3) / 3, 2) and s["best_span_f1"] == round(100 * (1 + 0.5 + 2 / 3) / 3, 2)
    assert s["abstain_rate"] == 50.0


def test_the_line_says_the_best_guess_and_why_it_was_not_given():
    from bertkit.qa.inference import describe
    unsure = {"answer": "", "best_span": "Beijing", "null_odds": -2.214}
    assert describe(unsure, -4.61) == ("best guess: 'Beijing' (the model is not sure enough to answer: margin -2.21, "
                                       "it answers below -4.61)")
    assert describe({**unsure, "answer": "Beijing", "null_odds": -4.9}, -4.61) == \
        "answer: 'Beijing' (no-answer margin -4.90; it answers below -4.61)"
    assert describe({"answer": "", "best_span": "", "null_odds": 1.0}, 0.0).startswith("no answer (no span found")
