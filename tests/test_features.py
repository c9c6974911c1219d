"""Training labels on the real dev file decode back to the gold answers; eval windows keep offsets."""
from collections import Counter

import pytest

from bertkit.data.squad import read_squad_rows
from bertkit.qa.features import _tokenize, prepare_eval_features, prepare_train_features


def batch(rows):
    return {k: [r[k] for r in rows] for k in rows[0]}


@pytest.fixture(scope="module")
def dev_rows(dev_file):
    return read_squad_rows(dev_file)


@pytest.mark.parametrize("max_len,stride", [(384, 128), (256, 64)])
def test_span_labels_decode_to_gold_answer(dev_rows, tokenizer, max_len, stride):
    """Every window labelled with a span decodes through the offsets to the gold answer; a label is missing
    only when no window holds the whole answer; unanswerable questions only get CLS."""
    b = batch(dev_rows)
    feats = prepare_train_features(b, tokenizer, max_len, stride)
    enc = _tokenize(b, tokenizer, max_len, stride, 64)  # the same windows, with their offsets
    assert enc["input_ids"] == feats["input_ids"]
    sample_map, offsets = enc["overflow_to_sample_mapping"], enc["offset_mapping"]
    exact = subtoken = 0
    labelled_questions = set()
    for i, (s, e) in enumerate(zip(feats["start_positions"], feats["end_positions"])):
        row = dev_rows[sample_map[i]]
        if not row["answers"]["text"]:
            assert s == e == 0
            continue
        if s == 0:
            assert e == 0
            continue
        labelled_questions.add(sample_map[i])
        gold, g0 = row["answers"]["text"][0], row["answers"]["answer_start"][0]
        decoded = row["context"][offsets[i][s][0]:offsets[i][e][1]]
        assert 0 < s <= e and feats["token_type_ids"][i][s] == 1
        if decoded == gold:
            exact += 1
        else:  # the answer starts or ends inside a word piece: the label is the smallest covering span
            subtoken += 1
            assert offsets[i][s][0] <= g0 and offsets[i][e][1] >= g0 + len(gold) and gold in decoded
            assert offsets[i][s][1] > g0 and offsets[i][e][0] < g0 + len(gold)
    answerable = [k for k, r in enumerate(dev_rows) if r["answers"]["text"]]
    n_span = exact + subtoken
    print(f"\n{max_len}/{stride}: {len(feats['input_ids'])} windows, {n_span} with a span "
          f"({exact} exact, {subtoken} sub-token), {len(labelled_questions)}/{len(answerable)} answerable questions labelled")
    assert subtoken / n_span < 0.01
    assert len(labelled_questions) / len(answerable) > 0.99  # almost every answer fits some window
    assert n_span >= len(labelled_questions)


def test_full_dev_window_count_matches_published(dev_rows, tokenizer):
    """bert-base-uncased at 384/128 gives 12,134 dev features (published); MiniLM shares that vocab."""
    feats = prepare_eval_features(batch(dev_rows), tokenizer, 384, 128)
    assert len(feats["input_ids"]) == 12134
    per_q = Counter(feats["example_id"])
    assert len(per_q) == 11873  # every question has at least one window


def test_long_question_is_truncated_and_offsets_are_context_only(tokenizer):
    q = "why " * 100 + "?"
    ctx = "The capital of China is Beijing. " * 40
    feats = prepare_eval_features({"id": ["q"], "question": [q], "context": [ctx]}, tokenizer, 128, 32, max_query_length=64)
    assert len(feats["input_ids"]) > 1 and all(len(x) <= 128 for x in feats["input_ids"])
    for ids, offs, tt in zip(feats["input_ids"], feats["offset_mapping"], feats["token_type_ids"]):
        assert sum(1 for t in tt if t == 0) == 64 + 2  # CLS + 64 question tokens + SEP
        assert all((o is None) == (t == 0 or k == len(ids) - 1) for k, (o, t) in enumerate(zip(offs, tt)))


def test_features_are_cached_by_fingerprint(dev_file, tokenizer):
    """A second run with the same data and flags reuses the Arrow cache instead of tokenising again."""
    from bertkit.data import squad as D
    from bertkit.qa.arguments import DataArguments
    from bertkit.qa.features import featurize
    ds = D.limit_questions(D.squad_file_dataset(dev_file), 64, seed=0)
    a, a_cached = featurize(ds, tokenizer, False, DataArguments(max_seq_length=128, doc_stride=32, overwrite_cache=True))
    b, b_cached = featurize(ds, tokenizer, False, DataArguments(max_seq_length=128, doc_stride=32))
    c, _ = featurize(ds, tokenizer, False, DataArguments(max_seq_length=192, doc_stride=32))
    assert a.cache_files and a.cache_files == b.cache_files and a._fingerprint == b._fingerprint
    assert (a_cached, b_cached) == (False, True)  # what the results JSON reports as features_from_cache
    assert c._fingerprint != a._fingerprint
