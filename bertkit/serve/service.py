"""Serve a fine-tuned model: load it once, check each request, answer in one batch (no web framework here).

The web layer (serve.py) passes each request's JSON here and sends back what comes out: a result, or a
BadRequest whose status and one-line message name the field. Answers are those of ask.py / classify.py for
the same input: the same loading (fp32, the saved no-answer threshold) and the same functions.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from ..errors import UserError

MAX_CONTEXT_CHARS = 100_000  # about 25,000 tokens: 100 windows of 384; a bigger text is a client's mistake
MAX_BATCH = 32  # questions (or reviews) per request
MAX_TOP_K = 20


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def task_of(model_dir: str) -> str:
    """'qa' or 'sentiment' from the folder's config.json; anything else is refused with one line."""
    cfg = Path(model_dir) / "config.json"
    try:
        archs = json.loads(cfg.read_text()).get("architectures") or []
    except (OSError, ValueError):
        raise UserError(f"{model_dir} has no readable config.json; pass a run's output folder (--model)") from None
    if any(a.endswith("ForQuestionAnswering") for a in archs):
        return "qa"
    if any(a.endswith("ForSequenceClassification") for a in archs):
        return "sentiment"
    raise UserError(f"{model_dir} is a {', '.join(archs) or 'model of no stated architecture'}, not a question-"
                    "answering or sentiment model; pass the output folder of run_squad.py or run_imdb.py")


def _text(body: dict, key: str, where: str = "") -> str:
    v = body.get(key)
    name = f"{where}{key}"
    if v is None:
        raise BadRequest(422, f"{name} is missing")
    if not isinstance(v, str):
        raise BadRequest(422, f"{name} must be a string, not {type(v).__name__}")
    if not v.strip():
        raise BadRequest(422, f"{name} is empty")
    return v


def _items(body, single: tuple[str, ...], many: str) -> list[dict]:
    """The request's items: one object with the `single` fields, or {many: [objects]} (answered in one batch)."""
    if not isinstance(body, dict):
        raise BadRequest(422, f"the body must be a JSON object, not {type(body).__name__}")
    if many in body:
        items = body[many]
        if not isinstance(items, list) or not items:
            raise BadRequest(422, f"{many} must be a non-empty list")
        if len(items) > MAX_BATCH:
            raise BadRequest(413, f"{many} holds {len(items)} items; at most {MAX_BATCH} per request")
        out = []
        for i, it in enumerate(items):
            if isinstance(it, str) and len(single) == 1:  # {"texts": ["review", ...]}
                it = {single[0]: it}
            if not isinstance(it, dict):
                raise BadRequest(422, f"{many}[{i}] must be an object with {', '.join(single)}")
            out.append({k: _text(it, k, f"{many}[{i}].") for k in single})
        return out
    return [{k: _text(body, k) for k in single}]


class Served:
    """One model, loaded once; answer()/classify() are serialised (one forward at a time on the CPU cores)."""

    def __init__(self, model_dir: str, max_seq_length: int | None = None, doc_stride: int = 128,
                 max_query_length: int = 64, max_context_chars: int = MAX_CONTEXT_CHARS, int8: bool = False):
        from ..train.modeling import check_length, load_classifier, load_qa_model, model_provenance, resolve_model
        self.model_dir = resolve_model(model_dir)
        self.task = task_of(self.model_dir)
        self.lock = threading.Lock()
        self.max_context_chars, self.doc_stride, self.max_query_length = max_context_chars, doc_stride, max_query_length
        if self.task == "qa":
            from ..qa.arguments import check_room, saved_threshold
            self.max_seq_length = max_seq_length or 384
            self.tok, self.model = load_qa_model(self.model_dir, seed=0)
            check_length(self.max_seq_length, self.model)
            check_room(self, self.tok.num_special_tokens_to_add(pair=True))
            saved = saved_threshold(self.model_dir)
            self.threshold = ({"value": saved["value"], "source": f"{Path(self.model_dir).name}/qa_threshold.json "
                               f"({saved.get('method')})"} if saved else
                              {"value": 0.0, "source": "default (the model folder has no qa_threshold.json)"})
            from ..qa.scoring import abstain_note
            self.note = abstain_note(saved)
        else:
            self.max_seq_length = max_seq_length or 256
            self.tok, self.model = load_classifier(self.model_dir, seed=0)
            check_length(self.max_seq_length, self.model)
            self.threshold, self.note = None, None
        self.model.eval()
        self.info = model_provenance(self.model_dir, self.model, self.tok)
        self.precision = "fp32"
        if int8:
            from ..qa.inference import INT8, int8 as quantize
            self.model, self.precision = quantize(self.model), INT8

    def health(self) -> dict:
        import platform

        import torch
        import transformers
        return {"status": "ok", "task": self.task, "model": self.model_dir,
                "model_type": self.model.config.model_type, "sha256": self.info.get("sha256"),
                "threshold": self.threshold, "note": self.note, "precision": self.precision,
                "max_seq_length": self.max_seq_length,
                "max_context_chars": self.max_context_chars, "max_batch": MAX_BATCH,
                "versions": {"python": platform.python_version(), "torch": torch.__version__,
                             "transformers": transformers.__version__}}

    def answer(self, body) -> dict:
        from ..qa.inference import answer
        if self.task != "qa":
            raise BadRequest(404, "this server holds a sentiment model: POST /classify")
        items = _items(body, ("question", "context"), "questions")
        top_k = body.get("top_k", 3)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise BadRequest(422, f"top_k must be a whole number from 1 to {MAX_TOP_K}")
        threshold = body.get("threshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise BadRequest(422, "threshold must be a number or null (null: the model's saved threshold)")
        room = self.max_seq_length - self.tok.num_special_tokens_to_add(pair=True) - 8
        for i, it in enumerate(items):
            where = f"questions[{i}]." if len(items) > 1 or "questions" in body else ""
            if len(it["context"]) > self.max_context_chars:
                raise BadRequest(413, f"{where}context has {len(it['context'])} characters; at most "
                                      f"{self.max_context_chars} (--max_context_chars)")
            n = len(self.tok(it["question"], add_special_tokens=False)["input_ids"])
            if n > room:
                raise BadRequest(422, f"{where}question has {n} tokens; a {self.max_seq_length}-token window holds "
                                      f"at most {room} with some context")
        used = {"value": float(threshold), "source": "request"} if threshold is not None else self.threshold
        with self.lock:
            results = answer(self.model, self.tok, [it["question"] for it in items], [it["context"] for it in items],
                             self.max_seq_length, self.doc_stride, self.max_query_length,
                             null_score_diff_threshold=used["value"], n_best=top_k)
        for r in results:
            r["threshold"] = used
            if self.note:
                r["note"] = self.note
        return {"answers": results} if "questions" in body else results[0]

    def classify(self, body) -> dict:
        from ..classify.encode import classify_text
        if self.task != "sentiment":
            raise BadRequest(404, "this server holds a question-answering model: POST /answer")
        items = _items(body, ("text",), "texts")
        for i, it in enumerate(items):
            if len(it["text"]) > self.max_context_chars:
                where = f"texts[{i}]." if "texts" in body else ""
                raise BadRequest(413, f"{where}text has {len(it['text'])} characters; at most {self.max_context_chars}")
        with self.lock:  # one review at a time, as classify.py: no padding, the same numbers
            out = [classify_text(self.model, self.tok, it["text"], self.max_seq_length) for it in items]
        return {"results": out} if "texts" in body else out[0]
