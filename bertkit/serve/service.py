"""Serve a fine-tuned model: load it once, answer validated requests in one batch (no web framework here).

The requests are pydantic models (request_models): FastAPI (serve.py) validates each body against them, and
one_line() turns the first validation error into the status and one-line message that name the field. Answers
are those of ask.py / classify.py for the same input: the same loading (fp32, the saved no-answer threshold,
the model folder's bertkit.json) and the same functions.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Union

from ..errors import UserError

MAX_CONTEXT_CHARS = 100_000  # about 25,000 tokens: 100 windows of 384; a bigger text is a client's mistake
MAX_BATCH = 32  # questions (or reviews) per request
MAX_TOP_K = 20
ONE, BATCH = "one", "batch"  # the tags of a request's two shapes (pydantic puts them in an error's location)


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


def request_models(max_context_chars: int = MAX_CONTEXT_CHARS):
    """The bodies of POST /answer and POST /classify, for a server that takes texts of up to max_context_chars:
    {"question", "context", "top_k", "threshold"} or {"questions": [{"question", "context"}, ...], ...};
    {"text"} or {"texts": ["review" or {"text"}, ...]}."""
    from pydantic import BaseModel, BeforeValidator, Discriminator, Field, RootModel, StrictStr, Tag

    def shape(many: str):  # which of the two a body is: {many: [...]} (one batch) or one item
        return Discriminator(lambda body: BATCH if isinstance(body, dict) and many in body else ONE)

    Filled = Annotated[StrictStr, Field(pattern=r"\S")]  # not empty, not only whitespace
    Text = Annotated[StrictStr, Field(pattern=r"\S", max_length=max_context_chars)]
    TopK = Annotated[int, Field(strict=True, ge=1, le=MAX_TOP_K)]
    Threshold = Annotated[Union[float, None], Field(strict=True)]  # strict: a number, not "1" or true

    class Question(BaseModel):
        question: Filled
        context: Text

    class OneQuestion(Question):
        top_k: TopK = 3
        threshold: Threshold = None

    class Questions(BaseModel):
        questions: Annotated[list[Question], Field(min_length=1, max_length=MAX_BATCH)]
        top_k: TopK = 3
        threshold: Threshold = None

    class Review(BaseModel):
        text: Text
        text_pair: Union[Text, None] = None  # the second text of a model trained on pairs

    ReviewOrText = Annotated[Review, BeforeValidator(lambda v: {"text": v} if isinstance(v, str) else v)]

    class Reviews(BaseModel):
        texts: Annotated[list[ReviewOrText], Field(min_length=1, max_length=MAX_BATCH)]

    class AnswerRequest(RootModel):
        root: Annotated[Union[Annotated[OneQuestion, Tag(ONE)], Annotated[Questions, Tag(BATCH)]], shape("questions")]

    class ClassifyRequest(RootModel):
        root: Annotated[Union[Annotated[Review, Tag(ONE)], Annotated[Reviews, Tag(BATCH)]], shape("texts")]

    return AnswerRequest, ClassifyRequest


ITEM_FIELDS = {"questions": "question, context", "texts": "text"}
FIELD_RULES = {"top_k": f"top_k must be a whole number from 1 to {MAX_TOP_K}",
               "threshold": "threshold must be a number or null (null: the model's saved threshold)"}


def one_line(errors: list[dict]) -> tuple[int, str]:
    """(HTTP status, one line naming the field) for the first of a request's validation errors (pydantic's, as
    FastAPI reports them): 400 not JSON, 413 too long or too many, 422 the rest."""
    e = errors[0]
    kind, where, given = e["type"], [p for p in e["loc"] if p not in ("body", ONE, BATCH)], e.get("input")
    if kind == "json_invalid":
        return 400, f"the body is not valid JSON ({(e.get('ctx') or {}).get('error', e['msg'])} at character {where[0]})"
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
    if not where:
        if kind == "missing":
            return 400, "the body is empty; send a JSON object"
        return 422, f"the body must be a JSON object, not {type(given).__name__}"
    if where[0] in FIELD_RULES:
        return 422, FIELD_RULES[where[0]]
    if name in ITEM_FIELDS:  # the list of a batch
        if kind == "too_long":
            return 413, f"{name} holds {len(given)} items; at most {MAX_BATCH} per request"
        return 422, f"{name} must be a non-empty list"
    if isinstance(where[-1], int):  # one item of a batch
        return 422, f"{name} must be an object with {ITEM_FIELDS.get(where[0], 'its fields')}"
    if kind == "missing":
        return 422, f"{name} is missing"
    if kind == "string_type":
        return 422, f"{name} must be a string, not {type(given).__name__}"
    if kind == "string_pattern_mismatch":
        return 422, f"{name} is empty"
    if kind == "string_too_long":
        return 413, f"{name} has {len(given)} characters; at most {e['ctx']['max_length']} (--max_context_chars)"
    return 422, f"{name}: {e['msg']}"


class Served:
    """One model, loaded once; answer()/classify() are serialised (one forward at a time on the CPU cores)."""

    def __init__(self, model_dir: str, max_seq_length: int | None = None, doc_stride: int | None = None,
                 max_query_length: int | None = None, max_context_chars: int = MAX_CONTEXT_CHARS):
        from ..train.model_settings import (CLASSIFY_KEYS, PAIR_KEY, dataclass_defaults, read_model_settings,
                                            resolve_settings)
        from ..train.modeling import check_length, load_classifier, load_qa_model, model_provenance, resolve_model
        self.model_dir = resolve_model(model_dir)
        self.task = task_of(self.model_dir)
        self.lock = threading.Lock()
        self.max_context_chars = max_context_chars
        given = {"max_seq_length": max_seq_length, "doc_stride": doc_stride, "max_query_length": max_query_length}
        if self.task == "qa":
            from ..qa.arguments import check_room
            from ..qa.inference import qa_settings, resolve_threshold
            self.settings = qa_settings(self.model_dir, given)  # before the model loads: a bad file is one line
            for key, s in self.settings.items():
                setattr(self, key, s["value"])
            check_room(self, 3)
            self.threshold, self.note = resolve_threshold(None, self.model_dir)
            self.tok, self.model = load_qa_model(self.model_dir, seed=0)
            check_length(self.max_seq_length, self.model)
            check_room(self, self.tok.num_special_tokens_to_add(pair=True))
        else:
            from ..classify.arguments import TRUNCATIONS, DataArguments
            self.settings = resolve_settings(self.model_dir, "text-classification", given,
                                             dataclass_defaults(DataArguments, CLASSIFY_KEYS))
            self.max_seq_length, self.truncation, self.label_threshold = (self.settings[k]["value"] for k in CLASSIFY_KEYS)
            self.pair_column = read_model_settings(self.model_dir, "text-classification").get(PAIR_KEY)
            if self.truncation not in TRUNCATIONS:
                raise UserError(f"truncation {self.truncation!r} (from {self.settings['truncation']['source']}): "
                                "give head or head_tail")
            self.tok, self.model = load_classifier(self.model_dir, seed=0)
            check_length(self.max_seq_length, self.model)
            self.threshold, self.note = None, None
        self.model.eval()
        self.info = model_provenance(self.model_dir, self.model, self.tok)
        self.precision = "fp32"

    def health(self) -> dict:
        import platform

        import torch
        import transformers

        from ..classify.encode import is_multi_label
        return {"status": "ok", "task": self.task, "model": self.model_dir,
                "model_type": self.model.config.model_type, "sha256": self.info.get("sha256"),
                "threshold": self.threshold, "note": self.note, "precision": self.precision,
                "max_seq_length": self.max_seq_length, "settings": self.settings,
                "max_context_chars": self.max_context_chars, "max_batch": MAX_BATCH,
                **({"labels": [self.model.config.id2label[i] for i in range(self.model.config.num_labels)],
                    "multi_label": is_multi_label(self.model),
                    "text_pair": self.pair_column} if self.task != "qa" else {}),
                "versions": {"python": platform.python_version(), "torch": torch.__version__,
                             "transformers": transformers.__version__}}

    def answer(self, req) -> dict:
        """`req`: an AnswerRequest's root (request_models), already checked but for the question's tokens."""
        from ..qa.inference import answer
        batch = hasattr(req, "questions")
        items = req.questions if batch else [req]
        room = self.max_seq_length - self.tok.num_special_tokens_to_add(pair=True) - 8
        for i, it in enumerate(items):
            n = len(self.tok(it.question, add_special_tokens=False)["input_ids"])
            if n > room:
                raise BadRequest(422, f"{f'questions[{i}].' if batch else ''}question has {n} tokens; a "
                                      f"{self.max_seq_length}-token window holds at most {room} with some context")
        used = {"value": float(req.threshold), "source": "request"} if req.threshold is not None else self.threshold
        with self.lock:
            results = answer(self.model, self.tok, [it.question for it in items], [it.context for it in items],
                             self.max_seq_length, self.doc_stride, self.max_query_length, n_best_size=self.n_best_size,
                             max_answer_length=self.max_answer_length, null_score_diff_threshold=used["value"],
                             n_best=req.top_k, short_context_threshold=used.get("short_contexts"),
                             cut_restated_question=self.cut_restated_question)
        for r in results:
            r["threshold"] = {**used, "value": r.pop("threshold_used")}  # this context's: a short one has its own
            if self.note:
                r["note"] = self.note
        return {"answers": results} if batch else results[0]

    def classify(self, req) -> dict:
        """`req`: a ClassifyRequest's root (request_models), already checked."""
        from ..classify.encode import classify_text
        batch = hasattr(req, "texts")
        items = req.texts if batch else [req]
        if any((it.text_pair is None) == bool(self.pair_column) for it in items):
            raise BadRequest(422, f"this model reads text pairs ({self.pair_column!r} as text_pair): send "
                            "{\"text\", \"text_pair\"}" if self.pair_column else
                            "this model reads single texts: send {\"text\"} without text_pair")
        with self.lock:  # one text at a time, as classify.py: no padding, the same numbers
            out = [classify_text(self.model, self.tok, it.text, self.max_seq_length, self.truncation, it.text_pair,
                                 self.label_threshold) for it in items]
        return {"results": out} if batch else out[0]
