"""Answer questions about contexts with any QA model folder (the tutorial's demo, for any text)."""
from __future__ import annotations

import torch

from .features import prepare_eval_features
from .postprocess import postprocess_qa

DEMO = {"question": "What is the capital of China?", "context": "The capital of China is Beijing."}


@torch.no_grad()
def answer(model, tokenizer, questions, contexts, max_seq_length=384, doc_stride=128, max_query_length=64,
           n_best_size=20, max_answer_length=30, null_score_diff_threshold=0.0):
    """Returns one dict per question: answer ("" = no answer), best_span, null_odds, nbest."""
    ex = {"id": [str(i) for i in range(len(questions))], "question": list(questions), "context": list(contexts)}
    feats = prepare_eval_features(ex, tokenizer, max_seq_length, doc_stride, max_query_length)
    model.eval()
    device = next(model.parameters()).device
    starts, ends = [], []
    for i in range(len(feats["input_ids"])):
        inputs = {k: torch.tensor([feats[k][i]], device=device) for k in tokenizer.model_input_names if k in feats}
        out = model(**inputs)
        starts.append(out.start_logits[0].float().cpu().numpy())
        ends.append(out.end_logits[0].float().cpu().numpy())
    examples = [{"id": i, "context": c} for i, c in zip(ex["id"], ex["context"])]
    preds, nbest, odds, nonnull = postprocess_qa(examples, feats["example_id"], feats["offset_mapping"],
                                                 starts, ends, n_best_size, max_answer_length,
                                                 null_score_diff_threshold, cls_indices=feats["cls_index"])
    return [{"question": q, "answer": preds[i], "best_span": nonnull[i], "null_odds": odds[i],
             "nbest": [{k: e[k] for k in ("text", "score", "probability")} for e in nbest[i][:5]]}
            for i, q in zip(ex["id"], questions)]


def demo(model, tokenizer, **kw) -> dict:
    r = answer(model, tokenizer, [DEMO["question"]], [DEMO["context"]], **kw)[0]
    return {"question": DEMO["question"], "context": DEMO["context"], "answer": r["answer"],
            "best_span": r["best_span"], "null_odds": r["null_odds"]}


def describe(r: dict) -> str:
    """One line: the answer, the best span and the no-answer margin (positive = model prefers no answer)."""
    shown = repr(r["answer"]) if r["answer"] else "<no answer>"
    return f"answer: {shown} | best span: {r['best_span']!r} | no-answer margin (null - best span): {r['null_odds']:+.3f}"
