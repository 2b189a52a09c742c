"""Threshold tuning for the high-vs-rest decision: recall first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    target_recall: float
    recall: float
    false_positive_rate: float
    positives: int
    negatives: int

    def as_dict(self) -> dict:
        return asdict(self)


def tune_threshold_for_recall(
    y_true: Sequence[bool], scores: Sequence[float], *, target_recall: float
) -> ThresholdChoice:
    """The highest threshold whose recall on (y_true, scores) is at least ``target_recall``.

    Predictions are ``score >= threshold``. Among thresholds that reach the recall, the highest
    one flags the fewest negatives, so recall comes first and false positives second.
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError("target_recall must be in (0, 1]")
    if len(y_true) != len(scores):
        raise ValueError("y_true and scores must have the same length")
    positive_scores = sorted(
        (float(s) for t, s in zip(y_true, scores, strict=True) if t), reverse=True
    )
    negative_scores = [float(s) for t, s in zip(y_true, scores, strict=True) if not t]
    if not positive_scores:
        raise ValueError("the validation split has no positive example to tune on")
    needed = max(1, math.ceil(target_recall * len(positive_scores) - 1e-9))
    threshold = positive_scores[needed - 1]
    recall = sum(s >= threshold for s in positive_scores) / len(positive_scores)
    fpr = (
        (sum(s >= threshold for s in negative_scores) / len(negative_scores))
        if negative_scores
        else 0.0
    )
    return ThresholdChoice(
        threshold=threshold,
        target_recall=target_recall,
        recall=recall,
        false_positive_rate=fpr,
        positives=len(positive_scores),
        negatives=len(negative_scores),
    )
