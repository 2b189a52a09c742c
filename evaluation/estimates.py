"""Interval estimates of a proportion (no Django): the live false-negative rate's arithmetic.

Clopper-Pearson ("exact") intervals: their coverage is at least the nominal level for every
true rate and sample size, which matters here because the rate is small (a crisis the model
scored none or low is rare) and Wilson intervals under-cover near zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

CONFIDENCE = 0.95


@dataclass(frozen=True)
class RateEstimate:
    rate: float | None
    lower: float | None
    upper: float | None
    successes: int
    trials: int


def clopper_pearson(successes: int, trials: int, *, confidence: float = CONFIDENCE) -> RateEstimate:
    """The rate ``successes / trials`` with its two-sided exact interval at ``confidence``.
    With no trials there is nothing to estimate (all None)."""
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError("need 0 <= successes <= trials")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    if trials == 0:
        return RateEstimate(None, None, None, 0, 0)
    interval = binomtest(successes, trials).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    lower, upper = float(interval.low), float(interval.high)
    return RateEstimate(successes / trials, lower, upper, successes, trials)
