"""The settings a model folder was trained and evaluated with, saved beside its weights as bertkit.json.

ask.py, serve.py and classify.py read them, so a model is asked with the windows it was evaluated with; a flag
given on their command line wins, and a folder without the file (a hub model, an older run) falls back to the
training scripts' own defaults (the dataclass fields), never to a second copy of them.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..results.record import write_json_atomic

SETTINGS_FILE = "bertkit.json"
QA_KEYS = ("max_seq_length", "doc_stride", "max_query_length", "n_best_size", "max_answer_length",
           "cut_restated_question")
CLASSIFY_KEYS = ("max_seq_length", "truncation", "multi_label_threshold")
PAIR_KEY = "text_pair_column"  # saved too (None: single texts): classify.py and the API ask for the second text


def write_model_settings(model_dir, task: str, args, keys) -> dict:
    """Record `keys` of `args` (a dataclass of flags) for `task` in <model_dir>/bertkit.json; returns the record."""
    rec = {"task": task, **{k: getattr(args, k) for k in keys}}
    write_json_atomic(Path(model_dir) / SETTINGS_FILE, rec)
    return rec


def read_model_settings(model_path, task: str) -> dict:
    """The folder's saved settings ({} for a hub id or a folder without the file). A file that does not parse,
    or that belongs to another task, is one error line."""
    path = Path(model_path) / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError(f"{path} is not readable JSON ({type(e).__name__}); delete it to use the defaults, or "
                        "re-save the model with the training script") from None
    if not isinstance(rec, dict) or rec.get("task") != task:
        got = rec.get("task") if isinstance(rec, dict) else None
        raise UserError(f"{path} says this model was trained for {got!r}, not {task!r}; give a {task} model folder")
    return rec


def setting(flag_value, saved: dict, key: str, default):
    """A flag given on the command line, else the model folder's saved value, else the training default;
    returns (value, where it came from)."""
    if flag_value is not None:
        return flag_value, f"--{key}"
    if key in saved:
        return saved[key], SETTINGS_FILE
    return default, "default"


def dataclass_defaults(cls, keys) -> dict:
    """The defaults of `keys` as a training script's flag dataclass declares them (the one place they are set)."""
    import dataclasses
    declared = {f.name: f.default for f in dataclasses.fields(cls)}
    return {k: declared[k] for k in keys}


def resolve_settings(model_path, task: str, given: dict, defaults: dict) -> dict:
    """{key: {"value", "source"}} for each key of `defaults`: given[key] (a flag; None: not given), else the model
    folder's bertkit.json, else the default. A saved value of another type than the default's is one error line."""
    saved = read_model_settings(model_path, task)
    out = {}
    for key, default in defaults.items():
        value, source = setting(given.get(key), saved, key, default)
        if source == SETTINGS_FILE and type(value) is not type(default):
            kind = {int: "whole number", str: "string", float: "number", bool: "true or false"}.get(type(default))
            raise UserError(f"{Path(model_path) / SETTINGS_FILE}: {key} is {value!r}, not a "
                            f"{kind or type(default).__name__}; fix it, delete the file to use the defaults, or pass "
                            f"--{key}")
        out[key] = {"value": value, "source": source}
    return out


def describe_settings(settings: dict) -> str:
    """One line: the values, grouped by where they came from (a flag, bertkit.json, the training default)."""
    groups: dict[str, list[str]] = {}
    for key, s in settings.items():
        groups.setdefault("flag" if s["source"].startswith("--") else s["source"], []).append(f"{key} {s['value']}")
    return "settings: " + "; ".join(f"{', '.join(items)} ({where})" for where, items in groups.items())
