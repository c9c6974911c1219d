"""Answer questions about contexts with any QA model folder (the tutorial's demo, for any text): the windows
and the no-answer threshold it is asked with (ask.py and serve.py work them out here), and the answers."""
from __future__ import annotations

from pathlib import Path

import torch

from ..train.answerability import head_of, window_logits
from ..train.model_settings import QA_KEYS, dataclass_defaults, resolve_settings
from .features import prepare_eval_features
from .postprocess import postprocess_qa
from .short_threshold import MAX_WORDS, threshold_for
from .tutorial import DEMO


def qa_settings(model_path, given: dict) -> dict:
    """{key: {"value", "source"}} for max_seq_length, doc_stride, max_query_length, n_best_size, max_answer_length,
    cut_restated_question:
    the flag in `given` (None: not given), else the model folder's bertkit.json, else run_squad.py's default."""
    from .arguments import DataArguments
    return resolve_settings(model_path, "squad_v2", given, dataclass_defaults(DataArguments, QA_KEYS))


def resolve_threshold(flag_value, model_path) -> tuple[dict, str | None]:
    """The no-answer threshold to ask with, {"value", "source"}: the flag (or request) value, else the one a
    fine-tuning run calibrated and saved beside the model (qa_threshold.json; with its short contexts' own,
    "short_contexts": {"value", "max_words"}, where it has one), else 0.0; and the one-line note of
    a model whose calibration found it cannot tell (None otherwise), whatever the value used."""
    from .arguments import THRESHOLD_FILE, saved_threshold
    from .scoring import abstain_note
    saved = saved_threshold(model_path) if Path(str(model_path)).is_dir() else None
    if flag_value is not None:
        threshold = {"value": float(flag_value), "source": "--threshold"}
    elif saved:
        threshold = {"value": saved["value"], "source": f"{Path(str(model_path)) / THRESHOLD_FILE} ({saved.get('method')})"}
        short = saved.get("short_contexts")
        if isinstance(short, dict) and isinstance(short.get("value"), (int, float)):  # bertkit.qa.short_threshold
            threshold["short_contexts"] = {"value": float(short["value"]), "max_words": int(short.get("max_words", MAX_WORDS))}
    else:
        threshold = {"value": 0.0, "source": "default (the model folder has no qa_threshold.json)"}
    return threshold, abstain_note(saved)


@torch.no_grad()
def answer(model, tokenizer, questions, contexts, max_seq_length=None, doc_stride=None, max_query_length=None,
           n_best_size=None, max_answer_length=None, null_score_diff_threshold=0.0, n_best=5, batch_size=16,
           short_context_threshold=None, cut_restated_question=None):
    """Returns one dict per question: answer ("" = no answer), best_span and its character offsets, its
    probability among the n best and "no answer", null_odds, the threshold it was asked at (threshold_used:
    short_context_threshold's value for a short context where given, bertkit.qa.short_threshold) and the n_best
    best entries. The windows of all
    questions go through the model in batches, longest first (padded on the right: positions hold). A window
    setting left None is run_squad.py's default (DataArguments; ask.py and serve.py pass the model's own)."""
    from .arguments import DataArguments
    d = dataclass_defaults(DataArguments, QA_KEYS)
    max_seq_length = d["max_seq_length"] if max_seq_length is None else max_seq_length
    doc_stride = d["doc_stride"] if doc_stride is None else doc_stride
    max_query_length = d["max_query_length"] if max_query_length is None else max_query_length
    cut = d["cut_restated_question"] if cut_restated_question is None else cut_restated_question
    n_best_size = d["n_best_size"] if n_best_size is None else n_best_size
    max_answer_length = d["max_answer_length"] if max_answer_length is None else max_answer_length
    ex = {"id": [str(i) for i in range(len(questions))], "question": list(questions), "context": list(contexts)}
    feats = prepare_eval_features(ex, tokenizer, max_seq_length, doc_stride, max_query_length)
    model.eval()
    device = next(model.parameters()).device
    names = [k for k in tokenizer.model_input_names if k in feats]
    n = len(feats["input_ids"])
    order = sorted(range(n), key=lambda i: -len(feats["input_ids"][i]))  # longest first: little padding per batch
    starts, ends = [None] * n, [None] * n
    answerable = [None] * n if head_of(model) is not None else None  # bertkit/train/answerability.py
    for b in range(0, n, batch_size):
        idx = order[b:b + batch_size]
        batch = tokenizer.pad([{k: feats[k][i] for k in names} for i in idx], padding=True, return_tensors="pt")
        out = model(**{k: v.to(device) for k, v in batch.items()})
        verdicts = window_logits(model)
        for j, i in enumerate(idx):
            starts[i], ends[i] = out.start_logits[j].float().cpu().numpy(), out.end_logits[j].float().cpu().numpy()
            if answerable is not None:
                answerable[i] = verdicts[j]
    examples = [{"id": i, "question": q, "context": c} for i, q, c in zip(ex["id"], ex["question"], ex["context"])]
    _, nbest, odds, nonnull = postprocess_qa(examples, feats["example_id"], feats["offset_mapping"],
                                                 starts, ends, n_best_size, max_answer_length,
                                                 null_score_diff_threshold, cls_indices=feats["cls_index"],
                                                 answerable_logits=answerable, cut_restated_question=cut)
    results = []
    for i, q, c in zip(ex["id"], questions, ex["context"]):
        best = next((e for e in nbest[i] if e["text"] and e["text"] == nonnull[i]), None)
        used = threshold_for(c, null_score_diff_threshold, short_context_threshold)
        results.append({"question": q, "answer": "" if odds[i] > used else nonnull[i],  # as postprocess_qa cuts
                        "best_span": nonnull[i], "threshold_used": used,
                        "best_span_offsets": best["offsets"] if best else None,
                        "best_span_probability": best["probability"] if best else None,
                        "null_odds": odds[i],
                        "nbest": [{k: e[k] for k in ("text", "score", "probability", "offsets")}
                                  for e in nbest[i][:n_best]]})
    return results


def demo(model, tokenizer, **kw) -> dict:
    r = answer(model, tokenizer, [DEMO["question"]], [DEMO["context"]], **kw)[0]
    return {"question": DEMO["question"], "context": DEMO["context"], "answer": r["answer"],
            "best_span": r["best_span"], "null_odds": r["null_odds"], "threshold_used": r["threshold_used"]}


def describe(r: dict, threshold: float | None = None) -> str:
    """One line. With the threshold it was asked at: the answer, or the best guess and why it was not given
    (margin = null score - best span score; the model answers when the margin is at or below the threshold). The
    threshold is the one the answer was asked at where `r` says (threshold_used: a short context's own)."""
    m = r["null_odds"]
    if threshold is not None:
        threshold = r.get("threshold_used", threshold)
    if threshold is None:
        shown = repr(r["answer"]) if r["answer"] else "<no answer>"
        return f"answer: {shown} | best span: {r['best_span']!r} | no-answer margin (null - best span): {m:+.3f}"
    if r["answer"]:
        return f"answer: {r['answer']!r} (no-answer margin {m:+.2f}; it answers below {threshold:+.2f})"
    if r["best_span"]:
        return (f"best guess: {r['best_span']!r} (the model is not sure enough to answer: margin {m:+.2f}, "
                f"it answers below {threshold:+.2f})")
    return f"no answer (no span found; no-answer margin {m:+.2f})"
