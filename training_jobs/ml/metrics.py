"""Metrics stored on a model version: per-class precision/recall/F1, confusion matrix, latency."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict:
    """Per-class precision/recall/F1/support, accuracy, macro F1 and the confusion matrix.

    Computed by hand (no sklearn) so tests can check it against sklearn independently.
    Rows of the confusion matrix are true labels, columns predicted labels, both in ``labels``
    order. A class with no prediction (or no support) has precision (recall) 0.
    """
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must have the same length")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t]][index[p]] += 1
    per_class = {}
    for label, i in index.items():
        tp = matrix[i][i]
        predicted = sum(matrix[r][i] for r in range(len(labels)))
        support = sum(matrix[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 6),
            "recall": round(recall, 6),
            "f1": round(f1, 6),
            "support": support,
        }
    total = len(y_true)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    supported = [c for c in per_class.values() if c["support"]]
    return {
        "accuracy": round(correct / total, 6) if total else 0.0,
        "macro_f1": round(sum(c["f1"] for c in supported) / len(supported), 6)
        if supported
        else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels), "matrix": matrix},
        "n": total,
    }


def binary_rates(y_true: Sequence[bool], y_pred: Sequence[bool]) -> dict:
    tp = sum(t and p for t, p in zip(y_true, y_pred, strict=True))
    fn = sum(t and not p for t, p in zip(y_true, y_pred, strict=True))
    fp = sum(p and not t for t, p in zip(y_true, y_pred, strict=True))
    tn = sum(not t and not p for t, p in zip(y_true, y_pred, strict=True))
    return {
        "recall": round(tp / (tp + fn), 6) if tp + fn else None,
        "precision": round(tp / (tp + fp), 6) if tp + fp else None,
        "false_positive_rate": round(fp / (fp + tn), 6) if fp + tn else None,
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
    }


def latency_summary(seconds: Sequence[float]) -> dict:
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    ms = np.asarray(seconds, dtype=float) * 1000.0
    return {
        "n": int(ms.size),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "max_ms": round(float(ms.max()), 3),
    }
