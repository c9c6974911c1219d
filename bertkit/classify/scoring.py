"""Classification metrics: accuracy, per-class precision/recall/F1 and support, macro F1, the confusion matrix;
for multi-label data the same per label, micro F1, and one 2x2 matrix per label (numpy only).

Standalone on purpose (no project imports): metrics/sentiment/ loads it through `evaluate`, outside the package.
"""
from __future__ import annotations

import numpy as np

ID2LABEL = {0: "negative", 1: "positive"}  # IMDB's classes, in the order run_imdb.py has always used


def _prf(tp, fp, fn) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return float(p), float(r), float(2 * p * r / (p + r) if p + r else 0.0)


def classification_metrics(labels, preds, names=None) -> dict:
    """Single-label metrics; `names` in class-id order (default: IMDB's negative, positive)."""
    names = list(ID2LABEL.values() if names is None else names)
    labels, preds = np.asarray(labels, dtype=int), np.asarray(preds, dtype=int)
    cm = np.zeros((len(names), len(names)), dtype=int)
    np.add.at(cm, (labels, preds), 1)
    per_class = {}
    for c, name in enumerate(names):
        p, r, f = _prf(cm[c, c], cm[:, c].sum() - cm[c, c], cm[c, :].sum() - cm[c, c])
        per_class[name] = {"precision": p, "recall": r, "f1": f, "support": int(cm[c, :].sum())}
    # macro F1 over the classes the test set holds (a class absent there has no recall to average)
    present = [v["f1"] for v in per_class.values() if v["support"]]
    return {"accuracy": float((labels == preds).mean()), "macro_f1": float(np.mean(present)), "per_class": per_class,
            "confusion_matrix": {"rows": "true label", "cols": "predicted", "labels": names, "matrix": cm.tolist()},
            "n": int(len(labels))}


def multilabel_metrics(labels, preds, names) -> dict:
    """Multi-label metrics from 0/1 matrices (rows: texts, columns: labels in `names` order). accuracy is the share
    of texts whose whole label set is right (exact match); label_accuracy the share of right (text, label) cells."""
    y, p = np.asarray(labels) > 0.5, np.asarray(preds) > 0.5
    per_class, matrices, tp_all, fp_all, fn_all = {}, {}, 0, 0, 0
    for c, name in enumerate(names):
        tp, fp = int((y[:, c] & p[:, c]).sum()), int((~y[:, c] & p[:, c]).sum())
        fn, tn = int((y[:, c] & ~p[:, c]).sum()), int((~y[:, c] & ~p[:, c]).sum())
        pr, rc, f = _prf(tp, fp, fn)
        per_class[name] = {"precision": pr, "recall": rc, "f1": f, "support": int(y[:, c].sum())}
        matrices[name] = [[tn, fp], [fn, tp]]
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    present = [v["f1"] for v in per_class.values() if v["support"]]
    return {"accuracy": float((y == p).all(1).mean()), "label_accuracy": float((y == p).mean()),
            "macro_f1": float(np.mean(present)) if present else 0.0, "micro_f1": _prf(tp_all, fp_all, fn_all)[2],
            "per_class": per_class,
            "confusion_matrix": {"rows": "true (not, is)", "cols": "predicted (not, is)", "labels": list(names),
                                 "per_label": matrices}, "n": int(len(y))}
