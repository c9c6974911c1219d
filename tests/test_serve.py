"""serve.py as a user meets it: a process on 127.0.0.1 that answers as ask.py does, refuses bad requests with one
line and keeps serving, survives a bounded load, stops cleanly on Ctrl-C; and its page in a real browser."""
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bertkit.serve.client import DEMO, Server, ask_demo_in_browser, call, chromium, free_port
from conftest import REPO

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def qa_model(tiny_model_dir, tmp_path_factory):
    """The tiny BERT with a saved no-answer threshold, as a run's output folder has."""
    d = tmp_path_factory.mktemp("served") / "qa"
    shutil.copytree(tiny_model_dir, d)
    (d / "qa_threshold.json").write_text(json.dumps({"value": -0.5, "method": "calibrated"}))
    return d


@pytest.fixture(scope="module")
def server(qa_model):
    s = Server(qa_model, env={"OMP_NUM_THREADS": "1"})
    yield s
    s.stop()


def ask(model, question, context):
    p = subprocess.run([sys.executable, "ask.py", "--model", str(model), "--question", question, "--context", context,
                        "--max_seq_length", "128", "--doc_stride", "32", "--json"], cwd=REPO, env=ENV,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


BAD = [  # (request, status, the field or problem the one-line error must name)
    (dict(body=b'{"question": "x", "context":'), 400, "not valid JSON"),
    (dict(body=b"question=x", content_type="application/x-www-form-urlencoded"), 415, "application/json"),
    (dict(body={"context": "Some text."}), 422, "question is missing"),
    (dict(body={"question": "  ", "context": "Some text."}), 422, "question is empty"),
    (dict(body={"question": "Who?", "context": 7}), 422, "context must be a string"),
    (dict(body={"question": "Who?", "context": "x" * 1001}), 413, "context has 1001 characters"),
    (dict(body={"question": "why " * 400, "context": "Some text."}), 422, "question has 400 tokens"),
    (dict(body={"question": "Who?", "context": "Bob.", "top_k": 0}), 422, "top_k"),
    (dict(body={"question": "Who?", "context": "Bob.", "threshold": "high"}), 422, "threshold"),
    (dict(body={"questions": []}), 422, "questions must be a non-empty list"),
    (dict(body={"questions": [{"question": "Who?"}]}), 422, "questions[0].context is missing"),
    (dict(body=[1, 2]), 422, "JSON object"),
    (dict(body=b""), 400, "the body is empty"),
    (dict(body={"question": "Who?", "context": "Bob.", "top_k": True}), 422, "top_k"),
    (dict(body={"questions": [7]}), 422, "questions[0] must be an object"),
    (dict(body={"questions": [{"question": "Who?", "context": "Bob."}] * 33}), 413, "at most 32 per request"),
]


def test_answers_as_ask_refuses_bad_requests_survives_load_and_stops_on_ctrl_c(qa_model):
    server = Server(qa_model, "--max_context_chars", 1000, "--max_seq_length", 128, "--doc_stride", 32,
                    env={"OMP_NUM_THREADS": "1"})
    try:
        status, health = call(server.port, "/health")
        h = json.loads(health)
        assert h["task"] == "qa" and h["threshold"]["value"] == -0.5 and "transformers" in h["versions"]
        status, page = call(server.port, "/")
        assert status == 200 and 'id="ask"' in page and "http://" not in page and "https://" not in page  # no CDN
        for req, want_status, want in BAD:
            status, text = call(server.port, "/answer", **req)
            err = json.loads(text)
            assert status == want_status and want in err["error"] and "\n" not in err["error"], (req, status, text)
        assert call(server.port, "/nope")[0] == 404 and call(server.port, "/answer", method="GET")[0] == 405

        inputs = [DEMO, {"question": "Who went home?", "context": "Bob went home after the long game. " * 20}]
        expected = [ask(qa_model, i["question"], i["context"]) for i in inputs]  # ask.py: 128-token windows too
        status, text = call(server.port, "/answer", {"questions": inputs, "top_k": 3})  # one batch
        responses = [(None, (status, json.dumps(r))) for r in json.loads(text)["answers"]]
        assert status == 200 and len(responses) == 2

        def one(k):  # 4 clients x 12 requests, every third one bad
            if k % 3 == 2:
                return "bad", call(server.port, "/answer", {"question": "", "context": "x"})
            return k % 2, call(server.port, "/answer", {**inputs[k % 2], "top_k": 3})
        t0 = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            done = list(pool.map(one, range(48)))
        seconds = time.perf_counter() - t0
        assert len(done) == 48 and sum(w == "bad" for w, _ in done) == 16
        for k, (which, (status, text)) in enumerate(responses + done):
            if which == "bad":
                assert status == 422 and json.loads(text) == {"error": "question is empty"}
                continue
            r, want = json.loads(text), expected[k if which is None else which]
            assert status == 200 and (r["answer"], r["best_span"]) == (want["answer"], want["best_span"])
            assert r["null_odds"] == pytest.approx(want["null_odds"], abs=1e-4)
            assert [e["text"] for e in r["nbest"]] == [e["text"] for e in want["nbest"][:3]]
            assert r["threshold"]["value"] == want["threshold"]["value"] == -0.5
        print(f"\n48 requests (16 bad) from 4 clients in {seconds:.1f} s")
    finally:
        code, err = server.stop()
    assert code in (0, 130) and "Traceback" not in err and err.strip().splitlines()[-1] == "server stopped"


def test_settings_from_the_model_folder_a_flag_wins_a_broken_file_is_one_line(qa_model, tmp_path):
    """The server asks with the folder's bertkit.json (said in /health with where each value came from), a flag wins
    over it; a bertkit.json that does not parse stops serve.py with one line and exit 2, before the model loads."""
    model = tmp_path / "qa"
    shutil.copytree(qa_model, model)
    (model / "bertkit.json").write_text(json.dumps({"task": "squad_v2", "max_seq_length": 128, "doc_stride": 32}))
    server = Server(model, "--doc_stride", 16, env={"OMP_NUM_THREADS": "1"})
    try:
        s = json.loads(call(server.port, "/health")[1])["settings"]
        status, text = call(server.port, "/answer", DEMO)
    finally:
        server.stop()
    from bertkit.qa.arguments import DataArguments
    assert s["max_seq_length"] == {"value": 128, "source": "bertkit.json"}
    assert s["doc_stride"] == {"value": 16, "source": "--doc_stride"}
    assert s["max_query_length"] == {"value": DataArguments.max_query_length, "source": "default"}
    assert status == 200 and "best_span" in json.loads(text)
    (model / "bertkit.json").write_text("{not json")
    p = subprocess.run([sys.executable, "serve.py", "--model", str(model), "--port", str(free_port())], cwd=REPO,
                       env=ENV, capture_output=True, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and lines[-1].startswith("error: ") and "bertkit.json is not readable JSON" in lines[-1]
    assert "Loading weights" not in p.stderr and "Traceback" not in p.stderr


def test_refuses_a_model_that_is_not_qa_or_sentiment(tiny_model_dir, tmp_path):
    from transformers import BertConfig, BertModel
    cfg = BertConfig.from_pretrained(tiny_model_dir)
    BertModel(cfg).save_pretrained(tmp_path / "encoder")
    shutil.copy(os.path.join(tiny_model_dir, "tokenizer.json"), tmp_path / "encoder")
    p = subprocess.run([sys.executable, "serve.py", "--model", str(tmp_path / "encoder"), "--port", str(free_port())],
                       cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and lines[-1].startswith("error: ") and "not a question-answering or sentiment" in lines[-1]


def test_page_in_a_real_browser(server, qa_model, tmp_path):
    """Chromium opens the page, types the tutorial's demo, clicks Ask and reads the highlighted answer."""
    from bertkit.qa.inference import answer
    from bertkit.train.modeling import load_qa_model
    browser, why = chromium()
    if browser is None:
        pytest.skip(f"no browser test: {why}")
    try:
        shown = ask_demo_in_browser(browser, server.port, screenshot=tmp_path / "page.png")
    finally:
        browser.quit()
    tok, model = load_qa_model(str(qa_model), seed=0)
    r = answer(model, tok, [DEMO["question"]], [DEMO["context"]], null_score_diff_threshold=-0.5, n_best=5)[0]
    assert shown["highlighted"] == r["best_span"] and shown["nbest_rows"] == len(r["nbest"])
    assert shown["answer"] == (r["answer"] if r["answer"] else f"Best guess: {r['best_span']}")
    assert (tmp_path / "page.png").stat().st_size > 5000


def test_classifier_served_as_classify_py_with_its_label_names(tiny_model_dir, tmp_path):
    from bertkit.train.modeling import load_classifier
    names = {0: "billing", 1: "bug", 2: "praise"}  # any classes (run_classification.py), shown by name
    tok, model = load_classifier(tiny_model_dir, 0, 3, names)
    model.save_pretrained(tmp_path / "cls")
    tok.save_pretrained(tmp_path / "cls")
    review = "A wonderful, moving film. " * 60 + "The end was dull."  # longer than a window: head_tail
    p = subprocess.run([sys.executable, "classify.py", "--model", str(tmp_path / "cls"), "--text", review], cwd=REPO,
                       env=ENV, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    server = Server(tmp_path / "cls", env={"OMP_NUM_THREADS": "1"})
    try:
        status, text = call(server.port, "/classify", {"text": review})
        assert status == 200 and json.loads(text) == json.loads(p.stdout)
        assert set(json.loads(text)["probabilities"]) == set(names.values()) and json.loads(text)["label"] in names.values()
        assert json.loads(call(server.port, "/health")[1])["labels"] == list(names.values())
        status, text = call(server.port, "/classify", {"text": "Dull.", "text_pair": "A second text."})
        assert status == 422 and "reads single texts" in text
        status, text = call(server.port, "/classify", {"texts": [review, "Dull."]})
        assert status == 200 and json.loads(text)["results"][0] == json.loads(p.stdout)
        assert call(server.port, "/classify", {"text": ""}) == (422, '{"error":"text is empty"}')
        assert call(server.port, "/answer", DEMO)[0] == 404 and 'id="classify"' in call(server.port, "/")[1]
    finally:
        code, err = server.stop()
    assert code in (0, 130) and "Traceback" not in err


def test_a_flag_the_script_does_not_take_is_one_line(tmp_path):
    """--int8 is gone (the supported quantization API did not meet its bar: benchmarks/int8_inference.py): given to
    run_squad.py it is one error line naming it, exit 2, before anything loads or is written."""
    p = subprocess.run([sys.executable, "run_squad.py", "--do_eval", "--int8", "--output_dir", str(tmp_path / "x")],
                       cwd=REPO, env=ENV, capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [
        "error: run_squad.py does not take --int8; see run_squad.py --help for its flags"]
    assert not (tmp_path / "x").exists()
