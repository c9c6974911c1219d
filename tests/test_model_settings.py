"""The model folder's settings (bertkit.json) as ask.py and classify.py meet them: a folder that has the file is
asked with its windows, a flag wins over it, a broken file is one error line (exit 2, before the model loads),
and a folder without it takes the training scripts' own dataclass defaults. The server: tests/test_serve.py."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
QA_SAVED = {"task": "squad_v2", "max_seq_length": 128, "doc_stride": 32, "max_query_length": 64, "n_best_size": 20,
            "max_answer_length": 30, "cut_restated_question": False}


def defaults(cls, keys):
    return {f.name: f.default for f in dataclasses.fields(cls) if f.name in keys}


def folder(src, dst, settings=None):
    shutil.copytree(src, dst)
    if settings is not None:
        (dst / "bertkit.json").write_text(settings if isinstance(settings, str) else json.dumps(settings))
    return dst


@pytest.fixture(scope="module")
def folders(tiny_model_dir, tmp_path_factory):
    """QA and sentiment copies of the tiny BERT: with a bertkit.json, without one, and with broken ones."""
    from bertkit.classify.scoring import ID2LABEL
    from bertkit.train.modeling import load_classifier
    d = tmp_path_factory.mktemp("settings")
    tok, model = load_classifier(tiny_model_dir, 0, 2, ID2LABEL)
    model.save_pretrained(d / "cls_plain")
    tok.save_pretrained(d / "cls_plain")
    return {"qa": folder(tiny_model_dir, d / "qa", QA_SAVED), "qa_plain": folder(tiny_model_dir, d / "qa_plain"),
            "qa_not_json": folder(tiny_model_dir, d / "qa_not_json", "{max_seq_length: 128"),
            "qa_other_task": folder(tiny_model_dir, d / "qa_other_task", {"task": "text-classification"}),
            "qa_bad_type": folder(tiny_model_dir, d / "qa_bad_type", {**QA_SAVED, "doc_stride": "32"}),
            "cls": folder(d / "cls_plain", d / "cls", {"task": "text-classification", "max_seq_length": 48,
                                                       "truncation": "head"}),
            "cls_plain": d / "cls_plain",
            "cls_not_json": folder(d / "cls_plain", d / "cls_not_json", "")}


@pytest.fixture(scope="module")
def runs(folders):
    ask = lambda name, *more: ["ask.py", "--model", folders[name], "--json", *more]  # noqa: E731
    review = lambda name, *more: ["classify.py", "--model", folders[name], "--text", "A fine film.", *more]  # noqa: E731
    cases = {"saved": ask("qa"), "flag": ask("qa", "--doc_stride", 16, "--max_seq_length", 96, "--cut_restated_question", "true"),
             "plain": ask("qa_plain"), "not_json": ask("qa_not_json"), "cls_saved": review("cls"), "cls_flag": review("cls", "--truncation",
                                                                                            "head_tail"),
             "cls_plain": review("cls_plain"), "cls_not_json": review("cls_not_json")}

    def one(item):
        name, cmd = item
        return name, subprocess.run([sys.executable, *map(str, cmd)], cwd=REPO, env=ENV, capture_output=True,
                                    text=True, timeout=300)
    with ThreadPoolExecutor(2) as pool:  # 2 at a time: most of each is importing torch
        return dict(pool.map(one, cases.items()))


def ok(p):
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def test_ask_takes_the_folders_settings_and_a_flag_wins(runs):
    s = json.loads(ok(runs["saved"]).stdout)["settings"]
    assert {k: v["value"] for k, v in s.items()} == {k: v for k, v in QA_SAVED.items() if k != "task"}
    assert {v["source"] for v in s.values()} == {"bertkit.json"}
    s = json.loads(ok(runs["flag"]).stdout)["settings"]
    assert s["doc_stride"] == {"value": 16, "source": "--doc_stride"}
    assert s["max_seq_length"] == {"value": 96, "source": "--max_seq_length"}
    assert s["max_query_length"] == {"value": 64, "source": "bertkit.json"}
    assert s["cut_restated_question"] == {"value": True, "source": "--cut_restated_question"}  # saved: false


def test_without_the_file_the_dataclass_defaults(runs):
    from bertkit.classify.arguments import DataArguments as ClassifyData
    from bertkit.qa.arguments import DataArguments
    from bertkit.train.model_settings import CLASSIFY_KEYS, QA_KEYS
    s = json.loads(ok(runs["plain"]).stdout)["settings"]
    assert {k: v["value"] for k, v in s.items()} == defaults(DataArguments, QA_KEYS)
    assert {v["source"] for v in s.values()} == {"default"}
    want = defaults(ClassifyData, CLASSIFY_KEYS)
    line = ok(runs["cls_plain"]).stderr.strip().splitlines()[-1]
    assert line == f"settings: max_seq_length {want['max_seq_length']}, truncation {want['truncation']} (default)"


def test_classify_takes_the_folders_settings_and_a_flag_wins(runs):
    assert ok(runs["cls_saved"]).stderr.strip().splitlines()[-1] == \
        "settings: max_seq_length 48, truncation head (bertkit.json)"
    assert ok(runs["cls_flag"]).stderr.strip().splitlines()[-1] == \
        "settings: max_seq_length 48 (bertkit.json); truncation head_tail (flag)"
    assert json.loads(runs["cls_saved"].stdout)["label"] in ("positive", "negative")


@pytest.mark.parametrize("case, words", [("not_json", "is not readable JSON"), ("cls_not_json", "is not readable JSON")])
def test_a_broken_file_is_one_error_line(runs, case, words):
    p = runs[case]
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(errors) == 1, p.stderr[-3000:]
    assert "bertkit.json" in errors[0] and words in errors[0], errors[0]
    assert "Loading weights" not in p.stderr  # refused before the model loads


@pytest.mark.parametrize("case, words", [("qa_other_task", "not 'squad_v2'"),
                                         ("qa_bad_type", "doc_stride is '32', not a whole number")])
def test_a_file_of_another_task_or_type_is_refused(folders, case, words):
    """The same reading as ask.py's (the process path of a broken file: above), without a process per case."""
    from bertkit.errors import UserError
    from bertkit.qa.inference import qa_settings
    with pytest.raises(UserError) as e:
        qa_settings(folders[case], {})
    assert "bertkit.json" in str(e.value) and words in str(e.value)
