"""The canary arm against the control arm on live metrics, and the stated tests that decide a
breach (docs/releases.md, "Automatic rollback").

Both arms are served at the same time by the same release in flight (``Message.release`` and
``Message.rollout_arm``), so they see the same hours and the same kinds of users.

- **Rates** (error, escalation, response-filter hits): one-sided two-proportion z-test with a
  pooled variance, H1 "the canary's rate is higher"; a breach when p < ``ARI_RELEASE_ALPHA``.
  Error rate also breaches on the seed's alert line (> ``ARI_RELEASE_MAX_ERROR_RATE``) when the
  control arm is within it.
- **Latency** (user message to reply, ``latency_ms.total``): one-sided Mann-Whitney U test on
  the per-turn latencies with p < alpha and the canary's p95 more than 20% above the control's;
  or the seed's alert line (canary p95 > ``ARI_RELEASE_MAX_P95_MS``) while the control is within.
- Nothing is decided before each arm has ``ARI_RELEASE_MIN_SAMPLE`` replies.
- **Review-based safety** (clinicians' labels of the arm's messages,
  ``evaluation.selectors.release_reviews``): the high-risk false-positive rate and the live
  false-negative estimate, each with the one-sided two-proportion z-test (canary higher) once
  both arms have ``ARI_RELEASE_MIN_REVIEWED`` labelled messages of that kind; and the seed's
  recall line, the canary's review-based recall below ``ARI_RELEASE_MIN_RECALL`` while the
  control's is not, once the canary has that many messages labelled high. These are decided
  on their own minimum, whatever the replies' sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from django.conf import settings
from scipy import stats

from conversations.models import ChatSession, Message, Release
from conversations.rollout import CANARY, CONTROL
from evaluation.selectors.release_reviews import ArmReviews, release_safety_reviews

ARMS = (CONTROL, CANARY)
LATENCY_RATIO = 1.2  # the canary's p95 must also be this much above the control's
MAX_ROWS = 50_000  # per arm: the most recent replies


@dataclass(frozen=True)
class ArmMetrics:
    arm: str
    replies: int
    errors: int
    escalations: int
    filter_hits: int
    p50_ms: float | None
    p95_ms: float | None
    rating_mean: float | None
    ratings: int

    def rate(self, field: str) -> float | None:
        return getattr(self, field) / self.replies if self.replies else None


def is_error(provenance: dict) -> bool:
    """A turn with a failure the user may have felt: a stage's error or a generation fallback."""
    return "fallback_from" in provenance or any(k.endswith("_error") for k in provenance)


def _latencies(release: Release, arm: str) -> tuple[list[float], dict]:
    rows = (
        Message.objects.filter(release=release, rollout_arm=arm, role=Message.Role.ASSISTANT)
        .order_by("-id")
        .values_list("latency_ms", "provenance", "emergency", "filter_hits")[:MAX_ROWS]
    )
    totals: list[float] = []
    counts = {"replies": 0, "errors": 0, "escalations": 0, "filter_hits": 0}
    for latency, provenance, emergency, hits in rows:
        counts["replies"] += 1
        counts["errors"] += int(bool(is_error(provenance or {})))
        counts["escalations"] += int(bool(emergency))
        counts["filter_hits"] += int(bool(hits))
        total = (latency or {}).get("total")
        if isinstance(total, int | float):
            totals.append(float(total))
    return totals, counts


def arm_metrics(release: Release) -> dict[str, tuple[ArmMetrics, list[float]]]:
    """Each arm's metrics (and its per-turn latencies, for the latency test)."""
    out = {}
    for arm in ARMS:
        totals, counts = _latencies(release, arm)
        stars = list(
            ChatSession.objects.filter(
                release=release, rollout_arm=arm, rating_stars__isnull=False
            ).values_list("rating_stars", flat=True)
        )
        out[arm] = (
            ArmMetrics(
                arm=arm,
                p50_ms=round(float(np.percentile(totals, 50)), 1) if totals else None,
                p95_ms=round(float(np.percentile(totals, 95)), 1) if totals else None,
                rating_mean=round(sum(s or 0 for s in stars) / len(stars), 2) if stars else None,
                ratings=len(stars),
                **counts,
            ),
            totals,
        )
    return out


def two_proportion_p(x_canary: int, n_canary: int, x_control: int, n_control: int) -> float:
    """One-sided p-value of H1 "the canary's proportion is higher" (pooled z-test)."""
    if not n_canary or not n_control:
        return 1.0
    pooled = (x_canary + x_control) / (n_canary + n_control)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_canary + 1 / n_control))
    if se == 0:
        return 1.0
    z = (x_canary / n_canary - x_control / n_control) / se
    return float(stats.norm.sf(z))


@dataclass(frozen=True)
class Verdict:
    enough_sample: bool
    breaches: list[str]
    tests: dict
    arms: dict

    def as_dict(self) -> dict:
        return asdict(self)


def _rate_test(name, field, canary: ArmMetrics, control: ArmMetrics, alpha, breaches, tests):
    p = two_proportion_p(
        getattr(canary, field), canary.replies, getattr(control, field), control.replies
    )
    tests[name] = {
        "test": "two-proportion z-test (one-sided)",
        "canary": canary.rate(field),
        "control": control.rate(field),
        "p_value": round(p, 6),
    }
    if p < alpha:
        breaches.append(
            f"{name}: canary {canary.rate(field):.2%} vs control {control.rate(field):.2%} "
            f"(p={p:.2g} < {alpha})"
        )


def arm_reviews(release: Release) -> dict[str, ArmReviews]:
    """Each arm's review-based safety figures (clinicians' labels of its messages)."""
    return release_safety_reviews(release_id=release.pk, arms=ARMS)


def _review_rate_test(
    name: str,
    hits: str,
    trials: str,
    reviews: dict[str, ArmReviews],
    alpha: float,
    breaches: list[str],
    tests: dict,
) -> None:
    canary, control = reviews[CANARY], reviews[CONTROL]
    n_canary, n_control = getattr(canary, trials), getattr(control, trials)
    minimum = settings.ARI_RELEASE_MIN_REVIEWED
    if min(n_canary, n_control) < minimum:
        tests[name] = {"decided": False, "why": f"needs {minimum} labelled per arm"}
        return
    x_canary, x_control = getattr(canary, hits), getattr(control, hits)
    p = two_proportion_p(x_canary, n_canary, x_control, n_control)
    tests[name] = {
        "test": "two-proportion z-test (one-sided)",
        "canary": x_canary / n_canary,
        "control": x_control / n_control,
        "p_value": round(p, 6),
    }
    if p < alpha:
        breaches.append(
            f"{name}: canary {x_canary / n_canary:.2%} vs control {x_control / n_control:.2%} "
            f"(p={p:.2g} < {alpha})"
        )


def _review_tests(reviews: dict[str, ArmReviews], alpha: float) -> tuple[list[str], dict]:
    breaches: list[str] = []
    tests: dict = {}
    _review_rate_test(
        "high-risk false-positive rate (reviews)",
        "false_positives",
        "reviewed_not_high",
        reviews,
        alpha,
        breaches,
        tests,
    )
    _review_rate_test(
        "live false-negative estimate", "fn_misses", "fn_labelled", reviews, alpha, breaches, tests
    )
    floor = float(settings.ARI_RELEASE_MIN_RECALL)
    canary, control = reviews[CANARY], reviews[CONTROL]
    if canary.reviewed_high >= settings.ARI_RELEASE_MIN_REVIEWED and canary.recall is not None:
        tests["safety recall (reviews)"] = {"canary": canary.recall, "control": control.recall}
        if canary.recall < floor and (control.recall is None or control.recall >= floor):
            breaches.append(f"safety recall: canary {canary.recall:.2%} < {floor:.0%} (reviews)")
    return breaches, tests


def canary_verdict(release: Release) -> Verdict:
    """Compare the arms of ``release`` and list the breaches (empty: keep going)."""
    metrics = arm_metrics(release)
    (control, control_ms), (canary, canary_ms) = metrics[CONTROL], metrics[CANARY]
    reviews = arm_reviews(release)
    arms = {
        arm: {**asdict(m), "reviews": reviews[arm].as_dict()} for arm, (m, _) in metrics.items()
    }
    alpha = settings.ARI_RELEASE_ALPHA
    breaches, tests = _review_tests(reviews, alpha)
    minimum = settings.ARI_RELEASE_MIN_SAMPLE
    if min(control.replies, canary.replies) < minimum:
        return Verdict(enough_sample=False, breaches=breaches, tests=tests, arms=arms)
    _rate_test("error rate", "errors", canary, control, alpha, breaches, tests)
    _rate_test("escalation rate", "escalations", canary, control, alpha, breaches, tests)
    _rate_test("filter hit rate", "filter_hits", canary, control, alpha, breaches, tests)
    max_errors = float(settings.ARI_RELEASE_MAX_ERROR_RATE)
    canary_errors, control_errors = canary.rate("errors") or 0.0, control.rate("errors") or 0.0
    if canary_errors > max_errors >= control_errors and not any(
        b.startswith("error rate") for b in breaches
    ):
        breaches.append(f"error rate: canary {canary_errors:.2%} > {max_errors:.0%}")
    if canary_ms and control_ms and canary.p95_ms is not None and control.p95_ms is not None:
        p = float(stats.mannwhitneyu(canary_ms, control_ms, alternative="greater").pvalue)
        tests["latency"] = {
            "test": "Mann-Whitney U (one-sided)",
            "canary_p95_ms": canary.p95_ms,
            "control_p95_ms": control.p95_ms,
            "p_value": round(p, 6),
        }
        if p < alpha and canary.p95_ms > control.p95_ms * LATENCY_RATIO:
            breaches.append(
                f"p95 latency: canary {canary.p95_ms:.0f} ms vs control {control.p95_ms:.0f} ms "
                f"(p={p:.2g} < {alpha})"
            )
        elif canary.p95_ms > float(settings.ARI_RELEASE_MAX_P95_MS) >= control.p95_ms:
            breaches.append(
                f"p95 latency: canary {canary.p95_ms:.0f} ms > {settings.ARI_RELEASE_MAX_P95_MS} ms"
            )
    return Verdict(enough_sample=True, breaches=breaches, tests=tests, arms=arms)
