"""The short-context and plain-questions checks (bertkit/qa/robustness.py): sentences split where a reader
would, each eval question's short context built from its own paragraph, the committed plain questions well
formed, and the rates counted as documented."""
import json

from bertkit.data import squad as D
from bertkit.qa.robustness import PLAIN_QUESTIONS, read_plain_questions, score, sentences, short_context
from bertkit.qa.scoring import normalize_answer
from bertkit.qa.short_contexts import add_short_contexts


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


def test_short_context_training_copies_of_the_training_articles(dev_file):
    splits, _ = D.load_squad(validation_file=dev_file, protocol="dev-split", need_train=True, need_eval=False)
    tr = splits["train"].select(range(300))
    assert add_short_contexts(tr, 0.0, 42)[0] is tr
    assert add_short_contexts(tr, 0.5, 42, "none")[1]["added"]["other_sentence"] == 0
    out, rec = add_short_contexts(tr, 0.5, 42, "closest")
    assert rec["questions_drawn"] == 150 and len(out) == len(tr) + sum(rec["added"].values())
    assert rec["added"]["answer_sentence"] > 0 and rec["added"]["other_sentence"] > 0
    assert len(set(out["id"])) == len(out) and out.features == tr.features
    by_id = {ex["id"]: ex for ex in tr}
    for ex in out.select(range(len(tr), len(out))):
        base = by_id[ex["id"].rsplit("~", 1)[0]]
        assert ex["context"] in base["context"] and len(ex["context"]) < len(base["context"])
        if ex["id"].endswith("~other"):  # a close sentence holding none of the answers, as no answer
            assert base["answers"]["text"] and not ex["answers"]["text"]
            assert not any(normalize_answer(t) in normalize_answer(ex["context"]) for t in base["answers"]["text"])
        elif base["answers"]["text"]:  # the answer where its offset says, in a sentence
            t, s = ex["answers"]["text"][0], ex["answers"]["answer_start"][0]
            assert ex["context"][s:s + len(t)] == t
        else:
            assert not ex["answers"]["text"]
    # mixed: each "no answer" sentence the closest or a random one by a coin: some of both
    closest = {x["id"]: x["context"] for x in out if x["id"].endswith("~other")}
    mixed = add_short_contexts(tr, 0.5, 42, "mixed")[0]
    same = [x["context"] == closest[x["id"]] for x in mixed if x["id"] in closest]
    assert 0 < sum(same) < len(same)
    # swap: the question with one name or number changed, against its answer's sentence, as no answer
    swapped, rec = add_short_contexts(tr, 0.5, 42, "random", swap=True)
    swaps = [x for x in swapped if x["id"].endswith("~swap")]
    assert rec["added"]["swapped_question"] == len(swaps) > 0 and len(set(swapped["id"])) == len(swapped)
    sentence_of = {x["id"]: x["context"] for x in swapped if x["id"].endswith("~sentence")}
    for x in swaps:
        base = by_id[x["id"].rsplit("~", 1)[0]]
        assert not x["answers"]["text"] and x["context"] == sentence_of[base["id"] + "~sentence"]
        old, new = base["question"].split(), x["question"].split()
        assert len(old) == len(new) and sum(a != b for a, b in zip(old, new)) == 1


def test_swapped_question():
    import numpy as np
    from bertkit.qa.short_contexts import swapped_question
    rng = np.random.default_rng(0)
    ctx = "The capital of China is Beijing. They say the capital of Japan is Tokyo."
    assert swapped_question("What is the capital of China?", ctx[:32], ctx, ["Beijing"], rng) in (
        "What is the capital of Japan?", "What is the capital of Tokyo?")  # never "They": a sentence's first word
    assert swapped_question("What is the capital?", ctx[:32], ctx, ["Beijing"], rng) is None  # no name to swap
    assert swapped_question("When was Beijing the capital?", ctx[:32], ctx, ["Beijing"], rng) is None  # the answer stays


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


def test_reachable_is_the_most_answered_at_the_abstain_bar():
    from bertkit.qa.robustness import reachable
    spans = ["Paris", "1912", "Austen", "Nile", "v", "w", "x", "y", "z"]
    items = [{"answers": {"text": [t]}} for t in spans[:3]] + [{"answers": {"text": ["Amazon"]}}] + \
        [{"answers": {"text": []}}] * 5
    odds = [-3.0, -1.0, 0.5, 2.0] + [-2.0, 0.0, 1.0, 3.0, 4.0]
    res = [{"answer": "", "best_span": t, "null_odds": o} for t, o in zip(spans, odds)]
    r = reachable(items, res, 60.0)  # at most 2 of the 5 unanswerable answered: below 1.0
    assert (r["threshold"], r["answer_rate"], r["right_rate"], r["abstain_rate"]) == (0.5, 75.0, 75.0, 60.0)
    assert reachable(items, res, 40.0)["right_rate"] == 75.0  # "Nile" answered, but not right
    assert reachable(items, res, 100.0)["answer_rate"] == 25.0  # only below the lowest unanswerable margin
    assert reachable(items, res, 0.0)["answer_rate"] == 100.0
    assert reachable(items[:4], res[:4], 60.0) is None


def test_the_line_says_the_best_guess_and_why_it_was_not_given():
    from bertkit.qa.inference import describe
    unsure = {"answer": "", "best_span": "Beijing", "null_odds": -2.214}
    assert describe(unsure, -4.61) == ("best guess: 'Beijing' (the model is not sure enough to answer: margin -2.21, "
                                       "it answers below -4.61)")
    assert describe({**unsure, "answer": "Beijing", "null_odds": -4.9}, -4.61) == \
        "answer: 'Beijing' (no-answer margin -4.90; it answers below -4.61)"
    assert describe({"answer": "", "best_span": "", "null_odds": 1.0}, 0.0).startswith("no answer (no span found")


def test_short_contexts_are_asked_at_their_own_threshold(tiny_model_dir, tmp_path):
    """A context of at most max_words words is asked at the short contexts' threshold, a longer one at the
    paragraph threshold; the saved file's short threshold is read unless a threshold is given."""
    import shutil
    from bertkit.qa.inference import answer, resolve_threshold
    from bertkit.train.modeling import load_qa_model
    tok, model = load_qa_model(tiny_model_dir, seed=0)
    short, long = "The capital of China is Beijing.", " ".join(["The capital of China is Beijing."] * 12)
    rs = answer(model, tok, ["What is the capital of China?"] * 2, [short, long], max_seq_length=128, doc_stride=32,
                null_score_diff_threshold=-1e9, short_context_threshold={"value": 1e9, "max_words": 50})
    assert [r["threshold_used"] for r in rs] == [1e9, -1e9]
    assert rs[0]["answer"] == rs[0]["best_span"] != "" and rs[1]["answer"] == ""
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    (d / "qa_threshold.json").write_text(json.dumps({"value": -1.0, "method": "calibrated",
                                                     "short_contexts": {"value": 2.0, "max_words": 50}}))
    assert resolve_threshold(None, d)[0]["short_contexts"] == {"value": 2.0, "max_words": 50}
    assert "short_contexts" not in resolve_threshold(0.5, d)[0]  # a given threshold is for every context
