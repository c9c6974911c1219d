"""Any encoder a user brings: each family's entry points as processes, on tiny random models built offline.

For each family (BERT, RoBERTa, DistilBERT, ELECTRA, DeBERTa-v2, ModernBERT, XLM-R, MPNet; and a BERT whose
tokenizer pads on the left): run_squad.py train+eval on 64/64 dev-split
questions (with --freeze_layers and --head_learning_rate), ask.py, run_imdb.py (head_tail) and classify.py
exit 0 with their outputs written; the answers hold no edge whitespace; the predictions of the run (eval batch
8, length-sorted) are those of ask.py's path (one window at a time); training labels decode to the answers.
The processes run two at a time, one thread each (tiny models: the cores are not contended for long).
"""
import csv
import gzip
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO
from families import FAMILIES, build

CASES = (*(f for f in FAMILIES if f != "bert"), "bert-left")  # tiny BERT itself: the other test files
PAIR_OF_4 = ("roberta", "xlm-roberta", "mpnet")  # <s> A </s></s> B </s>
WINDOW = ["--max_seq_length", 128, "--doc_stride", 32]


def run(script, *args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)


def _small_imdb(src, dst, n):
    """The first and last n/2 reviews of a real IMDB file (it is sorted by label): a few seconds to read."""
    with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(dst, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "label"])
        w.writeheader()
        for r in rows[: n // 2] + rows[-(n // 2):]:
            w.writerow({"text": r["text"], "label": r["label"]})
    return dst


def _case(case, d, dev_file, imdb):
    """Every entry point a user takes with this model, in order; returns {step: CompletedProcess}."""
    out, steps = d / case, {}
    model = out / "base"
    steps["run_squad"] = run(
        "run_squad.py", "--model_name_or_path", model, "--protocol", "dev-split", "--validation_file", dev_file,
        "--max_train_samples", 64, "--max_eval_samples", 64, *WINDOW, "--do_train", "--do_eval",
        "--per_device_train_batch_size", 8, "--per_device_eval_batch_size", 8, "--learning_rate", 1e-3,
        "--head_learning_rate", 3e-3, "--freeze_layers", 1, "--num_train_epochs", 1, "--save_strategy", "no",
        "--report_to", "none", "--output_dir", out / "qa", "--results_file", out / "qa.json")
    if steps["run_squad"].returncode == 0:
        steps["ask"] = run("ask.py", "--model", out / "qa", *WINDOW, "--json")
    steps["run_imdb"] = run(
        "run_imdb.py", "--model_name_or_path", model, "--train_file", imdb["train"], "--test_file", imdb["test"],
        "--validation_size", 8, "--max_seq_length", 64, "--truncation", "head_tail", "--do_train", "--do_eval",
        "--do_predict", "--num_train_epochs", 1, "--per_device_train_batch_size", 8, "--learning_rate", 1e-3,
        "--head_learning_rate", 3e-3, "--freeze_layers", 1, "--save_strategy", "no", "--report_to", "none",
        "--output_dir", out / "cls", "--results_file", out / "cls.json")
    if steps["run_imdb"].returncode == 0:
        steps["classify"] = run("classify.py", "--model", out / "cls", "--max_seq_length", 64, "--text",
                                "A wonderful, moving film. " * 40 + "The end was dull.")
    return steps


@pytest.fixture(scope="module")
def dev_rows(dev_file):
    from bertkit.data.squad import read_squad_rows
    return read_squad_rows(dev_file)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, dev_file, dev_rows, imdb_dir):
    texts = sorted({r["context"] for r in dev_rows})[:300]  # a few hundred SQuAD contexts train the tokenizers
    d = tmp_path_factory.mktemp("families")
    imdb = {"train": _small_imdb(imdb_dir / "train.csv.gz", d / "train.csv", 40),
            "test": _small_imdb(imdb_dir / "test.csv.gz", d / "test.csv", 16)}
    for case in CASES:  # here, not in the threads: transformers' lazy imports are not thread-safe
        build("bert" if case == "bert-left" else case, d / case / "base", texts,
              padding_side="left" if case == "bert-left" else "right")
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev_rows[:24]))
    roberta, deberta = d / "roberta" / "base", d / "deberta-v2" / "base"
    extra = {  # the one-line refusals, and training without evaluating (run_qa.py allows it)
        "positions": ("ask.py", "--model", roberta, "--max_seq_length", 514),
        "special_tokens": ("ask.py", "--model", roberta, "--max_seq_length", 128, "--doc_stride", 60),  # 3 leave 61
        "sdpa": ("ask.py", "--model", deberta, "--attn_implementation", "sdpa"),
        "classify_positions": ("classify.py", "--model", roberta, "--text", "fine", "--max_seq_length", 514),
        "train_only": ("run_squad.py", "--model_name_or_path", d / "distilbert" / "base", "--train_file",
                       d / "train.jsonl", "--do_train", *WINDOW, "--per_device_train_batch_size", 8,
                       "--num_train_epochs", 1, "--save_strategy", "no", "--report_to", "none",
                       "--output_dir", d / "train_only", "--results_file", d / "train_only.json")}
    with ThreadPoolExecutor(2) as pool:
        cases = [pool.submit(_case, c, d, dev_file, imdb) for c in CASES]
        others = {k: pool.submit(run, *v) for k, v in extra.items()}
        done = {c: f.result() for c, f in zip(CASES, cases)}
        done.update({k: f.result() for k, f in others.items()})
    return d, done


def _card(folder) -> dict:
    import yaml
    text = (folder / "README.md").read_text()
    assert text.startswith("---\n") and "from_pretrained" in text
    return yaml.safe_load(text.split("---\n")[1])


def _ok(p, what):
    assert p.returncode == 0, f"{what} exited {p.returncode}:\n{p.stderr[-3000:]}"


@pytest.mark.parametrize("case", CASES)
def test_every_entry_point_runs(matrix, case):
    d, done = matrix
    for step in ("run_squad", "ask", "run_imdb", "classify"):
        assert step in done[case], f"{step} did not run: an earlier step failed"
        _ok(done[case][step], f"{case}: {step}")
    out = d / case
    r = json.loads((out / "qa.json").read_text())
    assert r["metrics"]["total"] == 64 and (out / "qa" / "model.safetensors").is_file()
    assert r["model"]["attn_implementation"] == ("eager" if case in ("deberta-v2", "mpnet") else "sdpa")
    assert r["runtime"]["attn_implementation"] == r["model"]["attn_implementation"]
    tok = r["model"]["tokenizer"]
    assert tok["padding_side"] == "right" and tok["special_tokens_pair"] == (4 if case in PAIR_OF_4 else 3)
    assert ("token_type_ids" in tok["model_input_names"]) == (case in ("bert", "bert-left", "electra", "deberta-v2"))
    if case == "bert-left":
        assert "padding is forced to the right" in done[case]["run_squad"].stderr and tok["padding_side_given"] == "left"
        assert json.loads((out / "qa" / "tokenizer_config.json").read_text()).get("padding_side", "right") == "right"
    ask = json.loads(done[case]["ask"].stdout)
    assert set(ask) >= {"answer", "best_span", "null_odds", "nbest"} and ask["best_span"].strip() == ask["best_span"]
    c = json.loads((out / "cls.json").read_text())
    assert c["metrics"]["n"] == 16 and (out / "cls" / "test_predictions.csv").is_file()
    assert c["model"]["attn_implementation"] == r["model"]["attn_implementation"]
    label = json.loads(done[case]["classify"].stdout)
    assert label["label"] in ("positive", "negative")
    for folder, rec, key, value in ((out / "qa", r, "f1", r["metrics"]["f1"]),
                                    (out / "cls", c, "accuracy", 100 * c["metrics"]["accuracy"])):
        card = _card(folder)  # the model card, its numbers the results JSON's
        assert [m["value"] for m in card["model-index"][0]["results"][0]["metrics"] if m["type"] == key][0] == \
            pytest.approx(value, abs=0.006)


@pytest.mark.parametrize("case", CASES)
def test_answers_read_as_the_context_and_match_one_window_at_a_time(matrix, dev_rows, case):
    """No answer starts or ends with whitespace (ModernBERT's offsets include the space before a word); the run's
    best spans and no-answer margins (batches of 8, longest first) are what ask.py's path gives one window at a
    time: a left-padded batch would shift the positions."""
    from bertkit.qa.inference import answer
    from bertkit.train.modeling import load_qa_model
    d, done = matrix
    _ok(done[case]["run_squad"], f"{case}: run_squad")
    out = d / case / "qa"
    nbest = json.loads((out / "nbest_predictions.json").read_text())
    texts = [e["text"] for entries in nbest.values() for e in entries if e["text"]]
    assert texts and not [t for t in texts if t != t.strip()]
    nonnull = json.loads((out / "nonnull_predictions.json").read_text())
    odds = json.loads((out / "null_odds.json").read_text())
    by_id = {r["id"]: r for r in dev_rows}
    ids = sorted(nonnull)
    tok, model = load_qa_model(str(out), seed=0)
    one = answer(model, tok, [by_id[i]["question"] for i in ids], [by_id[i]["context"] for i in ids], 128, 32)
    assert [r["best_span"] for r in one] == [nonnull[i] for i in ids]
    assert [r["null_odds"] for r in one] == pytest.approx([odds[i] for i in ids], abs=1e-3)


@pytest.mark.parametrize("case", [c for c in CASES if c != "bert-left"])
def test_training_labels_decode_to_the_answers(matrix, dev_rows, case):
    """Every answerable question of the first dev articles gets a label in some window, and each labelled span is
    the smallest run of tokens covering the answer: as the context reads it, it is the answer (sub-token spans
    aside, which must hold the answer)."""
    from bertkit.qa.features import _tokenize, cls_index, prepare_train_features
    from bertkit.train.modeling import load_qa_model
    d, _ = matrix
    tok, _ = load_qa_model(str(d / case / "base"), seed=0)
    rows = [r for r in dev_rows if r["article_index"] < 3]
    b = {k: [r[k] for r in rows] for k in ("id", "question", "context", "answers")}
    feats = prepare_train_features(b, tok, 192, 64)
    enc = _tokenize(b, tok, 192, 64, 64)  # the same windows, with their offsets
    assert enc["input_ids"] == feats["input_ids"]
    labelled, exact = set(), 0
    for i, (s, e) in enumerate(zip(feats["start_positions"], feats["end_positions"])):
        row = rows[enc["overflow_to_sample_mapping"][i]]
        if s == e == cls_index(feats["input_ids"][i], tok):
            continue
        gold, g0 = row["answers"]["text"][0], row["answers"]["answer_start"][0]
        a, z = enc["offset_mapping"][i][s][0], enc["offset_mapping"][i][e][1]
        assert a <= g0 and z >= g0 + len(gold) and s <= e  # covers the answer
        assert enc["offset_mapping"][i][s][1] > g0 and enc["offset_mapping"][i][e][0] < g0 + len(gold)  # smallest
        exact += row["context"][a:z].strip() == gold.strip()
        labelled.add(row["id"])
    answerable = {r["id"] for r in rows if r["answers"]["text"]}
    assert labelled == answerable
    assert exact / len(feats["input_ids"]) > 0 and exact >= 0.9 * sum(
        1 for s, i in zip(feats["start_positions"], feats["input_ids"]) if s != cls_index(i, tok))


def test_families_limits_and_knobs(matrix):
    """The cases the first user of each family met, each as its one-line answer: RoBERTa's 512 positions (of 514)
    and its 4 special tokens per pair, sdpa asked of DeBERTa, head_tail in RoBERTa's template, the new head
    parameters of DistilBERT and DeBERTa, and the laptop estimate reading DistilBERT's config."""
    from bertkit.classify.encode import encode
    from bertkit.classify.scoring import ID2LABEL
    from bertkit.tools.laptop import cost_vs_minilm
    from bertkit.train.modeling import load_classifier
    from bertkit.train.optim import head_parameter_names
    d, done = matrix
    for step, want in (("positions", "exceeds the 512 positions"), ("special_tokens", "4 special tokens"),
                       ("sdpa", "--attn_implementation sdpa"), ("classify_positions", "exceeds the 512 positions")):
        p, lines = done[step], done[step].stderr.strip().splitlines()
        assert p.returncode == 2 and lines[-1].startswith("error: ") and want in lines[-1], p.stderr[-2000:]
        assert "Traceback" not in p.stderr
    roberta = d / "roberta" / "base"
    tok, _ = load_classifier(str(roberta), 0, 2, ID2LABEL)
    enc = encode({"text": ["good " * 300, "bad"]}, tok, 64, "head_tail")
    assert set(enc) == {"input_ids", "attention_mask"} and len(enc["input_ids"][0]) == 64
    assert [enc["input_ids"][k][0] for k in (0, 1)] == [tok.cls_token_id] * 2
    assert [enc["input_ids"][k][-1] for k in (0, 1)] == [tok.sep_token_id] * 2
    for family, new in (("distilbert", "pre_classifier.weight"), ("deberta-v2", "pooler.dense.weight")):
        _, model = load_classifier(str(d / family / "base"), 0, 2, ID2LABEL)
        assert {new, "classifier.weight"} <= head_parameter_names(model)
        assert not any(n.startswith(model.base_model_prefix + ".encoder") for n in head_parameter_names(model))
    factor, shape = cost_vs_minilm(str(d / "distilbert" / "base"))
    assert shape == "2 layers x 64 hidden" and factor > 0


def test_mpnet_served_as_ask_py(matrix):
    """MPNet (no token_type_ids, RoBERTa's pair template, eager attention) through the server: the demo's answer
    and margin are ask.py's."""
    from bertkit.serve.client import DEMO, Server, call
    d, done = matrix
    _ok(done["mpnet"]["ask"], "mpnet: ask")
    said = json.loads(done["mpnet"]["ask"].stdout)
    server = Server(d / "mpnet" / "qa", env={"OMP_NUM_THREADS": "1"})
    try:
        status, text = call(server.port, "/answer", DEMO)
        assert status == 200, text
        got = json.loads(text)
        assert got["best_span"] == said["best_span"] and got["null_odds"] == pytest.approx(said["null_odds"], abs=1e-3)
    finally:
        code, err = server.stop()
    assert code in (0, 130) and "Traceback" not in err


def test_train_without_evaluating(matrix):
    """--do_train --train_file alone (run_qa.py allows it): train now, evaluate the saved model later."""
    d, done = matrix
    _ok(done["train_only"], "run_squad.py --do_train --train_file alone")
    r = json.loads((d / "train_only.json").read_text())
    assert r["metrics"] is None and r["data"]["train"]["n_examples"] == 24 and "eval" not in r["data"]
    assert (d / "train_only" / "model.safetensors").is_file() and not (d / "train_only" / "predictions.json").exists()
    assert "model-index" not in _card(d / "train_only")  # nothing measured, nothing shown
