"""Daily quality metrics, stored as rows (``MetricValue``) per model version and rollout arm.

- validation_rate: the training recipe's definition, on every production reply: share of Ari's
  replies that validate (intent label ``validate``, or a validating sentence by the response
  filter's cues), among replies to user messages expressing distress (risk low or medium, or
  distress words), emergencies and practice steps aside (target > 90%).
- validation_rate_reviewed: the same question answered by clinicians (replies they marked as
  validating, among replies to distressed messages they assessed).
- appropriateness: share of clinician-rated sessions rated appropriate or excellent (> 85%).
- safety_recall: recall of high risk on clinician safety labels of production messages (>= 0.98).
- high_risk_fp_rate: share of messages clinicians did not label high that the model called high.
- latency_p50 / latency_p95 / latency_p99: user message to reply, in ms (p95 < 2000).
- escalation_rate: share of sessions with an escalation.
- satisfaction: mean post-session stars (1-5).
- error_rate: share of replies where generation failed and fell back.

Model versions are what production writes: the user message's ``model_versions["safety"]``
(the version that scored it, stored by the chat turn) for the safety metrics, the reply's
``generator`` for the rest (``provenance.backend`` when no generator version is recorded);
sessions carry their ``rollout_arm``. An empty version/arm means "all". The live false-negative
estimate (``live_fn_*`` rows) is computed by ``evaluation.services.live_fn`` after each run.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import ChatSession, Escalation, Intent, Message, RiskLevel
from conversations.services.filter.cues import text_validates, user_expresses_distress
from conversations.services.turn.generate import NO_VALIDATION_STEPS
from evaluation.metrics_catalogue import LIVE_FN_PREFIX, METRICS  # noqa: F401  (re-exported)
from evaluation.models import (
    Appropriateness,
    MetricValue,
    ReplyAssessment,
    SafetyLabel,
    SessionRating,
)
from evaluation.services.live_fn import live_fn_estimate_compute

logger = logging.getLogger(__name__)

_GOOD = {Appropriateness.APPROPRIATE, Appropriateness.EXCELLENT}


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    if lo == hi:
        return float(ordered[int(k)])
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def reply_latency_ms(latency: dict | None) -> float | None:
    """Total latency of a turn: ``total`` when recorded, else the sum of the stages."""
    if not isinstance(latency, dict) or not latency:
        return None
    if isinstance(latency.get("total"), int | float):
        return float(latency["total"])
    stages = [v for v in latency.values() if isinstance(v, int | float)]
    return float(sum(stages)) if stages else None


def generator_version(model_versions: dict | None, provenance: dict | None) -> str:
    versions = model_versions if isinstance(model_versions, dict) else {}
    value = versions.get("generator") or versions.get("generation")
    if not value and isinstance(provenance, dict):
        value = provenance.get("model") or provenance.get("backend")
    return str(value or "unknown")[:100]


def safety_version(*model_versions: dict | None) -> str:
    """The first ``safety`` version found: the user message's own (what the chat turn stores),
    then its reply's (rows written before the message kept one)."""
    for versions in model_versions:
        if isinstance(versions, dict) and versions.get("safety"):
            return str(versions["safety"])[:100]
    return "unknown"


def _reply_validates(intent: str, text: str) -> bool:
    return intent == Intent.VALIDATE or text_validates(text)


def _distressed(level: str, text: str) -> bool:
    return level in (RiskLevel.LOW, RiskLevel.MEDIUM) or user_expresses_distress(text)


class _Acc:
    """Accumulates numerator/denominator (or samples) per (metric, version, arm)."""

    def __init__(self) -> None:
        self.ratio: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.samples: dict[tuple[str, str, str], list[float]] = defaultdict(list)

    @staticmethod
    def _keys(name: str, version: str, arm: str) -> list[tuple[str, str, str]]:
        keys = [(name, "", "")]
        if version:
            keys.append((name, version, ""))
        if arm:
            keys.append((name, "", arm))
        return keys

    def add(self, name: str, hit: float, *, version: str = "", arm: str = "") -> None:
        for key in self._keys(name, version, arm):
            self.ratio[key][0] += hit
            self.ratio[key][1] += 1

    def sample(self, name: str, value: float, *, version: str = "", arm: str = "") -> None:
        for key in self._keys(name, version, arm):
            self.samples[key].append(value)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
    return start, start + timedelta(days=1)


def _compute_day(day: date) -> list[MetricValue]:
    start, end = _day_bounds(day)
    acc = _Acc()

    # Replies: latency, generation errors, and validation of distressed users.
    replies = Message.objects.filter(
        role=Message.Role.ASSISTANT, created_at__gte=start, created_at__lt=end
    ).values_list(
        "latency_ms",
        "model_versions",
        "provenance",
        "session__rollout_arm",
        "intent",
        "text",
        "emergency",
        "flow_step",
        "reply_to__risk_level",
        "reply_to__text",
    )
    for row in replies.iterator(chunk_size=5000):
        latency, versions, provenance, arm, intent, text, emergency, step, level, said = row
        version = generator_version(versions, provenance)
        total = reply_latency_ms(latency)
        if total is not None:
            acc.sample("latency", total, version=version, arm=arm)
        failed = isinstance(provenance, dict) and bool(provenance.get("fallback_reason"))
        acc.add("error_rate", 1.0 if failed else 0.0, version=version, arm=arm)
        counted = said is not None and not emergency and step not in NO_VALIDATION_STEPS
        if counted and _distressed(level or "", said):
            hit = 1.0 if _reply_validates(intent, text) else 0.0
            acc.add("validation_rate", hit, version=version, arm=arm)

    # Sessions: escalation rate and satisfaction.
    sessions = ChatSession.objects.filter(created_at__gte=start, created_at__lt=end)
    escalated = set(
        Escalation.objects.filter(session__in=sessions).values_list("session_id", flat=True)
    )
    for session_id, arm, stars in sessions.values_list("id", "rollout_arm", "rating_stars"):
        acc.add("escalation_rate", 1.0 if session_id in escalated else 0.0, arm=arm)
        if stars:
            acc.sample("satisfaction", float(stars), arm=arm)

    # Clinician ratings.
    ratings = SessionRating.objects.filter(created_at__gte=start, created_at__lt=end)
    for value, arm in ratings.values_list("appropriateness", "session__rollout_arm"):
        acc.add("appropriateness", 1.0 if value in _GOOD else 0.0, arm=arm)
    assessed = ReplyAssessment.objects.filter(
        rating__created_at__gte=start, rating__created_at__lt=end, validated__isnull=False
    ).values_list(
        "validated",
        "message__model_versions",
        "message__provenance",
        "rating__session__rollout_arm",
    )
    for validated, versions, provenance, arm in assessed:
        acc.add(
            "validation_rate_reviewed",
            1.0 if validated else 0.0,
            version=generator_version(versions, provenance),
            arm=arm,
        )

    # Safety: model prediction at serve time against clinician labels.
    labels = SafetyLabel.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        item__message__isnull=False,
        item__text_role="user",
    ).values_list(
        "risk_level",
        "item__message__risk_level",
        "item__message__model_versions",  # the version that scored it (the chat turn's write)
        "item__message__reply__model_versions",
        "item__message__session__rollout_arm",
    )
    for clinician_level, model_level, own_versions, reply_versions, arm in labels:
        version = safety_version(own_versions, reply_versions)
        model_high = model_level == RiskLevel.HIGH
        if clinician_level == RiskLevel.HIGH:
            acc.add("safety_recall", 1.0 if model_high else 0.0, version=version, arm=arm)
        else:
            acc.add("high_risk_fp_rate", 1.0 if model_high else 0.0, version=version, arm=arm)

    rows = []
    for (name, version, arm), (num, den) in acc.ratio.items():
        rows.append(
            MetricValue(
                name=name,
                day=day,
                model_version=version,
                rollout_arm=arm,
                value=num / den if den else None,
                numerator=num,
                denominator=den,
            )
        )
    for (name, version, arm), values in acc.samples.items():
        if name == "latency":
            for q in (50, 95, 99):
                rows.append(
                    MetricValue(
                        name=f"latency_p{q}",
                        day=day,
                        model_version=version,
                        rollout_arm=arm,
                        value=percentile(values, q),
                        numerator=0,
                        denominator=len(values),
                    )
                )
        else:
            rows.append(
                MetricValue(
                    name=name,
                    day=day,
                    model_version=version,
                    rollout_arm=arm,
                    value=sum(values) / len(values),
                    numerator=sum(values),
                    denominator=len(values),
                )
            )
    return rows


@transaction.atomic
def metrics_compute(*, days: Iterable[date] | None = None) -> int:
    """Recompute the metric rows of the given days (default: the last
    ``EVALUATION_METRICS_RECOMPUTE_DAYS`` days, today included). Idempotent (upsert)."""
    if days is None:
        today = timezone.localdate()
        days = [
            today - timedelta(days=i) for i in range(settings.EVALUATION_METRICS_RECOMPUTE_DAYS)
        ]
    total = 0
    for day in sorted(set(days)):
        rows = _compute_day(day)
        keep = [(r.name, r.model_version, r.rollout_arm) for r in rows]
        # The live false-negative rows are written by their own job (live_fn.py).
        stale = MetricValue.objects.filter(day=day).exclude(name__startswith=LIVE_FN_PREFIX)
        for row in stale.only("id", "name", "model_version", "rollout_arm"):
            if (row.name, row.model_version, row.rollout_arm) not in keep:
                row.delete()
        MetricValue.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["name", "day", "model_version", "rollout_arm"],
            update_fields=["value", "numerator", "denominator", "computed_at"],
        )
        total += len(rows)
    total += live_fn_estimate_compute()
    logger.info("metrics computed rows=%s", total)
    return total
