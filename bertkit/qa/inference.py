"""Answer questions about contexts with any QA model folder (the tutorial's demo, for any text)."""
from __future__ import annotations

import torch

from .features import prepare_eval_features
from .postprocess import postprocess_qa

DEMO = {"question": "What is the capital of China?", "context": "The capital of China is Beijing."}
INT8 = "dynamic int8: per-channel weights of every encoder nn.Linear, the task head in fp32 (CPU)"


def int8(model):
    """The model for CPU inference in int8 (torch.ao dynamic quantization; the head stays fp32, where it decides
    the span). benchmarks/int8_inference.py measured it on the default run's 1,000 eval questions: 2.26x faster
    than fp32, F1 -0.10 (results/benchmarks/int8_inference_*.json); answers may change with the batch."""
    import copy
    q = torch.ao.quantization
    prefix = model.base_model_prefix + "."
    spec = {name: q.per_channel_dynamic_qconfig for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.startswith(prefix)}
    import warnings
    with warnings.catch_warnings():  # torch's notice that quantized tensors will move to torchao
        warnings.simplefilter("ignore")
        return q.quantize_dynamic(copy.deepcopy(model).eval(), spec, dtype=torch.qint8)


@torch.no_grad()
def answer(model, tokenizer, questions, contexts, max_seq_length=384, doc_stride=128, max_query_length=64,
           n_best_size=20, max_answer_length=30, null_score_diff_threshold=0.0, n_best=5, batch_size=16):
    """Returns one dict per question: answer ("" = no answer), best_span and its character offsets, its
    probability among the n best and "no answer", null_odds, and the n_best best entries. The windows of all
    questions go through the model in batches, longest first (padded on the right: positions hold)."""
    ex = {"id": [str(i) for i in range(len(questions))], "question": list(questions), "context": list(contexts)}
    feats = prepare_eval_features(ex, tokenizer, max_seq_length, doc_stride, max_query_length)
    model.eval()
    device = next(model.parameters()).device
    names = [k for k in tokenizer.model_input_names if k in feats]
    n = len(feats["input_ids"])
    order = sorted(range(n), key=lambda i: -len(feats["input_ids"][i]))  # longest first: little padding per batch
    starts, ends = [None] * n, [None] * n
    for b in range(0, n, batch_size):
        idx = order[b:b + batch_size]
        batch = tokenizer.pad([{k: feats[k][i] for k in names} for i in idx], padding=True, return_tensors="pt")
        out = model(**{k: v.to(device) for k, v in batch.items()})
        for j, i in enumerate(idx):
            starts[i], ends[i] = out.start_logits[j].float().cpu().numpy(), out.end_logits[j].float().cpu().numpy()
    examples = [{"id": i, "context": c} for i, c in zip(ex["id"], ex["context"])]
    preds, nbest, odds, nonnull = postprocess_qa(examples, feats["example_id"], feats["offset_mapping"],
                                                 starts, ends, n_best_size, max_answer_length,
                                                 null_score_diff_threshold, cls_indices=feats["cls_index"])
    results = []
    for i, q in zip(ex["id"], questions):
        best = next((e for e in nbest[i] if e["text"] and e["text"] == nonnull[i]), None)
        results.append({"question": q, "answer": preds[i], "best_span": nonnull[i],
                        "best_span_offsets": best["offsets"] if best else None,
                        "best_span_probability": best["probability"] if best else None,
                        "null_odds": odds[i],
                        "nbest": [{k: e[k] for k in ("text", "score", "probability", "offsets")}
                                  for e in nbest[i][:n_best]]})
    return results


def demo(model, tokenizer, **kw) -> dict:
    r = answer(model, tokenizer, [DEMO["question"]], [DEMO["context"]], **kw)[0]
    return {"question": DEMO["question"], "context": DEMO["context"], "answer": r["answer"],
            "best_span": r["best_span"], "null_odds": r["null_odds"]}


def describe(r: dict) -> str:
    """One line: the answer, the best span and the no-answer margin (positive = model prefers no answer)."""
    shown = repr(r["answer"]) if r["answer"] else "<no answer>"
    return f"answer: {shown} | best span: {r['best_span']!r} | no-answer margin (null - best span): {r['null_odds']:+.3f}"
