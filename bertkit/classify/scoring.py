"""Sentiment metrics: accuracy, per-class precision/recall/F1, macro F1, the confusion matrix (numpy only).

Standalone on purpose (no project imports): metrics/sentiment/ loads it through `evaluate`, outside the package.
"""
from __future__ import annotations

import numpy as np

ID2LABEL = {0: "negative", 1: "positive"}


def classification_metrics(labels, preds) -> dict:
    labels, preds = np.asarray(labels), np.asarray(preds)
    cm = np.zeros((2, 2), dtype=int)
    np.add.at(cm, (labels, preds), 1)
    per_class, f1s = {}, []
    for c, name in ID2LABEL.items():
        tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c, :].sum() - cm[c, c]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_class[name] = {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(cm[c, :].sum())}
        f1s.append(f)
    return {"accuracy": float((labels == preds).mean()), "macro_f1": float(np.mean(f1s)), "per_class": per_class,
            "confusion_matrix": {"rows": "true label", "cols": "predicted", "labels": list(ID2LABEL.values()),
                                 "matrix": cm.tolist()}, "n": int(len(labels))}
