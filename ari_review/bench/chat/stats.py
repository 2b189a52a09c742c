"""Latency figures of one benchmark phase."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile of ``values`` (linear interpolation); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary(values: list[float]) -> dict:
    """n, mean, p50, p95, p99 and max of latencies in ms (None where there are none)."""
    return {
        "n": len(values),
        "mean_ms": _round(statistics.fmean(values)) if values else None,
        "p50_ms": _round(percentile(values, 50)),
        "p95_ms": _round(percentile(values, 95)),
        "p99_ms": _round(percentile(values, 99)),
        "max_ms": _round(max(values)) if values else None,
    }


@dataclass
class Phase:
    """What one load produced: every request's latency (ms), the failures, the seconds, and how
    many answers had each HTTP status (``error:<kind>`` when there was no answer)."""

    latencies: list[float]
    errors: int
    seconds: float
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies),
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.requests_per_s, 1),
            "errors": self.errors,
            "statuses": dict(sorted(self.statuses.items())),
            **summary(self.latencies),
        }
