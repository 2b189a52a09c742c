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


def safety_confidence(score: float, *, high: float | None, possible: float | None) -> float:
    """How sure the served decision is, in [0.5, 1], from P(high) and the version's thresholds.

    Inside the possible-risk band (``possible <= score < high``) it is below 0.6, lowest in the
    middle of the band; outside it rises from 0.6 at a threshold to 1 at 0 or 1. Without
    thresholds (older versions): ``max(score, 1 - score)``. The review queue's low-confidence
    tier (default cut-off 60%) and active learning read it, so both follow the band.
    """
    score = min(1.0, max(0.0, float(score)))
    if high is None or possible is None or not 0.0 < possible <= high < 1.0:
        return round(max(score, 1.0 - score), 4)
    if score >= high:
        return round(0.6 + 0.4 * (score - high) / (1.0 - high), 4)
    if score < possible:
        return round(0.6 + 0.4 * (possible - score) / possible, 4)
    half = (high - possible) / 2.0 or 1.0
    return round(0.5 + 0.09 * min(1.0, abs(score - (possible + half)) / half), 4)
