"""Filling the review queue with sessions, in tiers: escalated, high risk, low confidence, then
a monthly sample."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, FloatField, OuterRef, QuerySet, Value, When
from django.db.models.functions import Power, Random
from django.utils import timezone

from conversations.models import ChatSession, Escalation, RiskLevel
from conversations.rollout import CANARY
from evaluation.models import WorkItem

logger = logging.getLogger(__name__)

# Review queue tiers: lower is reviewed first.
TIER_ESCALATED = 0.0
TIER_HIGH_RISK = 1.0
TIER_LOW_CONFIDENCE = 2.0
TIER_SAMPLE = 3.0


def _sample_order(queryset: QuerySet[ChatSession]) -> QuerySet[ChatSession]:
    """Random order in which a canary-arm session comes first ``EVALUATION_REVIEW_CANARY_WEIGHT``
    times as often as another (weighted sampling without replacement, Efraimidis-Spirakis: key
    ``U ** (1 / weight)``, largest first), so the clinician review of a release fills within days
    (docs/releases.md, "Review follows the canary")."""
    weight = float(settings.EVALUATION_REVIEW_CANARY_WEIGHT)
    key = Case(
        When(rollout_arm=CANARY, then=Power(Random(), Value(1.0 / weight))),
        default=Random(),
        output_field=FloatField(),
    )
    return queryset.annotate(sample_key=key).order_by("-sample_key")


def _review_required(high_risk: bool) -> int:
    if high_risk:
        return max(
            settings.EVALUATION_REVIEWS_PER_SESSION,
            settings.EVALUATION_REVIEWS_PER_HIGH_RISK_SESSION,
        )
    return settings.EVALUATION_REVIEWS_PER_SESSION


def _enqueue_sessions(
    session_ids: Iterable[int], *, tier: float, reason: str, high_risk: bool
) -> int:
    """Queue sessions at ``tier``; sessions already queued at a later tier move up (and reopen
    if they now need more reviews)."""
    session_ids = sorted(set(session_ids))
    if not session_ids:
        return 0
    required = _review_required(high_risk)
    existing = WorkItem.objects.filter(kind=WorkItem.Kind.REVIEW, session_id__in=session_ids)
    upgraded = 0
    for item in existing.filter(priority__gt=tier).select_for_update():
        item.priority = tier
        item.reason = reason
        item.required_reviews = max(item.required_reviews, required)
        if item.reviews_done < item.required_reviews:
            item.status = WorkItem.Status.OPEN
            item.completed_at = None
        item.save(
            update_fields=["priority", "reason", "required_reviews", "status", "completed_at"]
        )
        upgraded += 1
    queued = set(existing.values_list("session_id", flat=True))
    new = [
        WorkItem(
            kind=WorkItem.Kind.REVIEW,
            reason=reason,
            priority=tier,
            required_reviews=required,
            session_id=sid,
        )
        for sid in session_ids
        if sid not in queued
    ]
    WorkItem.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new) + upgraded


@transaction.atomic
def review_queue_add_sessions(
    *, session_ids: Iterable[int], reason: str = WorkItem.Reason.SAMPLE
) -> int:
    """Queue ``session_ids`` for clinician rating at the sample tier (evaluation runs' replies)."""
    return _enqueue_sessions(session_ids, tier=TIER_SAMPLE, reason=reason, high_risk=False)


def _escalated_session_ids() -> set[int]:
    flagged = ChatSession.objects.filter(flagged=True).values_list("id", flat=True)
    escalated = Escalation.objects.filter(status=Escalation.Status.OPEN).values_list(
        "session_id", flat=True
    )
    return set(flagged) | set(escalated)


@transaction.atomic
def review_queue_sync_urgent() -> int:
    """Put escalated and flagged sessions at the top of the review queue now (cheap: only
    sessions not yet queued at the escalated tier are touched)."""
    at_top = WorkItem.objects.filter(
        kind=WorkItem.Kind.REVIEW, session=OuterRef("pk"), priority__lte=TIER_ESCALATED
    )
    flagged = (
        ChatSession.objects.filter(flagged=True)
        .exclude(Exists(at_top))
        .values_list("id", flat=True)
    )
    escalated = (
        Escalation.objects.filter(status=Escalation.Status.OPEN)
        .exclude(
            Exists(
                WorkItem.objects.filter(
                    kind=WorkItem.Kind.REVIEW,
                    session=OuterRef("session"),
                    priority__lte=TIER_ESCALATED,
                )
            )
        )
        .values_list("session_id", flat=True)
    )
    ids = set(flagged) | set(escalated)
    return _enqueue_sessions(
        ids, tier=TIER_ESCALATED, reason=WorkItem.Reason.ESCALATED, high_risk=True
    )


@transaction.atomic
def review_queue_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Queue sessions for review: escalated and high-risk first, then low safety confidence,
    then a random sample of at least ``EVALUATION_REVIEW_SAMPLE_PER_MONTH`` a month."""
    now = now or timezone.now()
    counts = {
        "escalated": _enqueue_sessions(
            _escalated_session_ids(),
            tier=TIER_ESCALATED,
            reason=WorkItem.Reason.ESCALATED,
            high_risk=True,
        ),
        "high_risk": _enqueue_sessions(
            ChatSession.objects.filter(max_risk_level=RiskLevel.HIGH).values_list("id", flat=True),
            tier=TIER_HIGH_RISK,
            reason=WorkItem.Reason.HIGH_RISK,
            high_risk=True,
        ),
    }
    threshold = settings.EVALUATION_LOW_CONFIDENCE_PERCENT / 100.0
    counts["low_confidence"] = _enqueue_sessions(
        ChatSession.objects.filter(min_safety_confidence__lt=threshold).values_list(
            "id", flat=True
        ),
        tier=TIER_LOW_CONFIDENCE,
        reason=WorkItem.Reason.LOW_CONFIDENCE,
        high_risk=False,
    )
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    sampled = WorkItem.objects.filter(
        kind=WorkItem.Kind.REVIEW, reason=WorkItem.Reason.SAMPLE, created_at__gte=month_start
    ).count()
    need = settings.EVALUATION_REVIEW_SAMPLE_PER_MONTH - sampled
    counts["sample"] = 0
    if need > 0:
        queued = WorkItem.objects.filter(kind=WorkItem.Kind.REVIEW, session=OuterRef("pk"))
        candidates = ChatSession.objects.filter(created_at__gte=month_start).exclude(Exists(queued))
        ended = candidates.filter(status=ChatSession.Status.ENDED)
        picked = list(_sample_order(ended).values_list("id", flat=True)[:need])
        if len(picked) < need:
            picked += list(
                _sample_order(candidates.exclude(id__in=picked)).values_list("id", flat=True)[
                    : need - len(picked)
                ]
            )
        counts["sample"] = _enqueue_sessions(
            picked, tier=TIER_SAMPLE, reason=WorkItem.Reason.SAMPLE, high_risk=False
        )
    logger.info("review queue refreshed counts=%s", counts)
    return counts
