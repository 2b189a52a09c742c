"""Work queues: what gets queued (priorities, active learning), locks with expiry, and the
N-reviews rule shared by every kind of clinician work."""

from __future__ import annotations

import logging
import zlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, FloatField, IntegerField, OuterRef, Subquery
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from conversations.models import ChatSession, Escalation, Message, RiskLevel
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import WorkItem, WorkLock

logger = logging.getLogger(__name__)

Kind = WorkItem.Kind
Reason = WorkItem.Reason

# Review queue tiers: lower is reviewed first.
TIER_ESCALATED = 0.0
TIER_HIGH_RISK = 1.0
TIER_LOW_CONFIDENCE = 2.0
TIER_SAMPLE = 3.0


def _lock_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=settings.EVALUATION_LOCK_MINUTES)


def label_reviews_required(*, key: str, high_risk: bool = False) -> int:
    """How many clinicians label one item: more for high risk, and a stable share twice."""
    base = settings.EVALUATION_LABELS_PER_ITEM
    if high_risk:
        return max(base, settings.EVALUATION_LABELS_PER_HIGH_RISK_ITEM)
    if zlib.crc32(key.encode()) % 100 < settings.EVALUATION_DOUBLE_LABEL_PERCENT:
        return max(base, 2)
    return base


def _others_active_locks(*, clinician, now: datetime) -> Coalesce:
    locks = (
        WorkLock.objects.filter(item=OuterRef("pk"), expires_at__gt=now)
        .exclude(clinician=clinician)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(locks, output_field=IntegerField()), 0)


def _done_by(kind: str, clinician) -> Exists:
    model = LABEL_MODEL_BY_KIND[kind]
    return Exists(model.objects.filter(item=OuterRef("pk"), clinician=clinician))


def available_items(*, kind: str, clinician, now: datetime | None = None):
    """Open items of ``kind`` this clinician may take now, in queue order."""
    now = now or timezone.now()
    return (
        WorkItem.objects.filter(kind=kind, status=WorkItem.Status.OPEN)
        .annotate(others_locks=_others_active_locks(clinician=clinician, now=now))
        .filter(required_reviews__gt=F("reviews_done") + F("others_locks"))
        .exclude(_done_by(kind, clinician))
        .order_by("priority", "id")
    )


@transaction.atomic
def work_item_take_next(
    *, kind: str, clinician, exclude_ids: tuple[int, ...] | list[int] = ()
) -> WorkItem | None:
    """Lock and return the clinician's next item of ``kind`` (their current one if they hold
    one), or None when the queue is empty for them. ``exclude_ids``: items just skipped."""
    if kind not in Kind.values:
        raise ApplicationError(f"Unknown queue {kind!r}.")
    now = timezone.now()
    held = (
        WorkLock.objects.select_for_update()
        .filter(
            clinician=clinician,
            expires_at__gt=now,
            item__kind=kind,
            item__status=WorkItem.Status.OPEN,
        )
        .exclude(
            Exists(
                LABEL_MODEL_BY_KIND[kind].objects.filter(item=OuterRef("item"), clinician=clinician)
            )
        )
        .exclude(item_id__in=list(exclude_ids))
        .select_related("item")
        .order_by("item__priority", "item_id")
        .first()
    )
    if held is not None:
        held.expires_at = _lock_expiry(now)
        held.save(update_fields=["expires_at"])
        return held.item
    if kind == Kind.REVIEW:
        review_queue_sync_urgent()
    item = (
        available_items(kind=kind, clinician=clinician, now=now)
        .exclude(id__in=list(exclude_ids))
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if item is None:
        return None
    WorkLock.objects.update_or_create(
        item=item, clinician=clinician, defaults={"expires_at": _lock_expiry(now)}
    )
    logger.info("work item locked item_id=%s clinician_id=%s", item.pk, clinician.pk)
    return item


@transaction.atomic
def work_item_lock(*, item: WorkItem, clinician) -> WorkLock:
    """Take (or extend) the clinician's lock on one item, if a review slot is free."""
    now = timezone.now()
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    if item.status != WorkItem.Status.OPEN:
        raise ApplicationError("This item already has all the reviews it needs.")
    if LABEL_MODEL_BY_KIND[item.kind].objects.filter(item=item, clinician=clinician).exists():
        raise ApplicationError("You have already completed this item.")
    others = (
        WorkLock.objects.filter(item=item, expires_at__gt=now).exclude(clinician=clinician).count()
    )
    mine = WorkLock.objects.filter(item=item, clinician=clinician, expires_at__gt=now).exists()
    if not mine and item.reviews_done + others >= item.required_reviews:
        raise ApplicationError(
            "Another clinician is working on this item; take the next one instead."
        )
    lock, _ = WorkLock.objects.update_or_create(
        item=item, clinician=clinician, defaults={"expires_at": _lock_expiry(now)}
    )
    return lock


@transaction.atomic
def work_item_release(*, item: WorkItem, clinician) -> int:
    """Give the item back (skip). Returns the number of locks removed (0 or 1)."""
    deleted, _ = WorkLock.objects.filter(item=item, clinician=clinician).delete()
    return deleted


def work_item_record_review(*, item: WorkItem, clinician, kind: str) -> WorkItem:
    """Count one completed review of ``item`` by ``clinician``. Call inside the transaction
    that writes the label: it locks the item row, enforces the N-reviews rule and the lock,
    and frees the clinician's lock."""
    now = timezone.now()
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    if item.kind != kind:
        raise ApplicationError(f"This item is a {item.get_kind_display().lower()}, not a {kind}.")
    if LABEL_MODEL_BY_KIND[kind].objects.filter(item=item, clinician=clinician).exists():
        raise ApplicationError("You have already completed this item.")
    if item.reviews_done >= item.required_reviews:
        raise ApplicationError("This item already has all the reviews it needs.")
    others = (
        WorkLock.objects.filter(item=item, expires_at__gt=now).exclude(clinician=clinician).count()
    )
    mine = WorkLock.objects.filter(item=item, clinician=clinician, expires_at__gt=now).exists()
    if not mine and item.reviews_done + others >= item.required_reviews:
        raise ApplicationError(
            "Another clinician holds this item and your lock has expired; take the next one."
        )
    item.reviews_done += 1
    fields = ["reviews_done"]
    if item.reviews_done >= item.required_reviews:
        item.status = WorkItem.Status.DONE
        item.completed_at = now
        fields += ["status", "completed_at"]
    item.save(update_fields=fields)
    WorkLock.objects.filter(item=item, clinician=clinician).delete()
    return item


def work_locks_release_expired(*, now: datetime | None = None) -> int:
    """Housekeeping: delete expired locks (expiry is already enforced when reading)."""
    deleted, _ = WorkLock.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


# --- Filling the queues -------------------------------------------------------------------


def _review_required(high_risk: bool) -> int:
    if high_risk:
        return max(
            settings.EVALUATION_REVIEWS_PER_SESSION,
            settings.EVALUATION_REVIEWS_PER_HIGH_RISK_SESSION,
        )
    return settings.EVALUATION_REVIEWS_PER_SESSION


def _enqueue_sessions(session_ids, *, tier: float, reason: str, high_risk: bool) -> int:
    """Queue sessions at ``tier``; sessions already queued at a later tier move up (and reopen
    if they now need more reviews)."""
    session_ids = sorted(set(session_ids))
    if not session_ids:
        return 0
    required = _review_required(high_risk)
    existing = WorkItem.objects.filter(kind=Kind.REVIEW, session_id__in=session_ids)
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
            kind=Kind.REVIEW,
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
        kind=Kind.REVIEW, session=OuterRef("pk"), priority__lte=TIER_ESCALATED
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
                    kind=Kind.REVIEW, session=OuterRef("session"), priority__lte=TIER_ESCALATED
                )
            )
        )
        .values_list("session_id", flat=True)
    )
    ids = set(flagged) | set(escalated)
    return _enqueue_sessions(ids, tier=TIER_ESCALATED, reason=Reason.ESCALATED, high_risk=True)


@transaction.atomic
def review_queue_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Queue sessions for review: escalated and high-risk first, then low safety confidence,
    then a random sample of at least ``EVALUATION_REVIEW_SAMPLE_PER_MONTH`` a month."""
    now = now or timezone.now()
    counts = {
        "escalated": _enqueue_sessions(
            _escalated_session_ids(), tier=TIER_ESCALATED, reason=Reason.ESCALATED, high_risk=True
        ),
        "high_risk": _enqueue_sessions(
            ChatSession.objects.filter(max_risk_level=RiskLevel.HIGH).values_list("id", flat=True),
            tier=TIER_HIGH_RISK,
            reason=Reason.HIGH_RISK,
            high_risk=True,
        ),
    }
    threshold = settings.EVALUATION_LOW_CONFIDENCE_PERCENT / 100.0
    counts["low_confidence"] = _enqueue_sessions(
        ChatSession.objects.filter(min_safety_confidence__lt=threshold).values_list(
            "id", flat=True
        ),
        tier=TIER_LOW_CONFIDENCE,
        reason=Reason.LOW_CONFIDENCE,
        high_risk=False,
    )
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    sampled = WorkItem.objects.filter(
        kind=Kind.REVIEW, reason=Reason.SAMPLE, created_at__gte=month_start
    ).count()
    need = settings.EVALUATION_REVIEW_SAMPLE_PER_MONTH - sampled
    counts["sample"] = 0
    if need > 0:
        queued = WorkItem.objects.filter(kind=Kind.REVIEW, session=OuterRef("pk"))
        candidates = ChatSession.objects.filter(created_at__gte=month_start).exclude(Exists(queued))
        ended = candidates.filter(status=ChatSession.Status.ENDED)
        picked = list(ended.order_by("?").values_list("id", flat=True)[:need])
        if len(picked) < need:
            picked += list(
                candidates.exclude(id__in=picked)
                .order_by("?")
                .values_list("id", flat=True)[: need - len(picked)]
            )
        counts["sample"] = _enqueue_sessions(
            picked, tier=TIER_SAMPLE, reason=Reason.SAMPLE, high_risk=False
        )
    logger.info("review queue refreshed counts=%s", counts)
    return counts


def _safety_suggestion(message: Message) -> dict:
    """What the model said of a user message. Its turn's model versions are on the reply: the
    user message itself keeps only the risk fields."""
    reply = getattr(message, "reply", None)
    return {
        "risk_level": message.risk_level,
        "category": message.risk_category,
        "urgency": message.risk_urgency,
        "score": message.risk_score,
        "model_version": ((reply.model_versions if reply else None) or {}).get("safety", ""),
    }


def _intent_suggestion(message: Message) -> dict:
    return {
        "intent": message.intent,
        "score": message.intent_score,
        "model_version": (message.model_versions or {}).get("intent", ""),
    }


def served_safety_band() -> tuple[float | None, float | None]:
    """``(possible, high)`` thresholds of the active safety model version (None without one):
    the possible-risk band, where the served decision is least certain."""
    from training_jobs.selectors import model_version_active_get

    version = model_version_active_get(kind="safety")
    thresholds = (version.thresholds or {}) if version is not None else {}
    return thresholds.get("possible"), thresholds.get("high")


def safety_uncertainty(score: float | None, band: tuple[float | None, float | None]) -> float:
    """1 in the middle of the served version's possible-risk band (least certain), falling to
    0 at scores of 0 or 1; without a band, 1 at 0.5."""
    from training_jobs.ml.thresholds import safety_confidence

    if score is None:
        return 0.5
    possible, high = band
    return min(1.0, max(0.0, 2.0 * (1.0 - safety_confidence(score, high=high, possible=possible))))


def intent_uncertainty(score: float | None) -> float:
    if score is None:
        return 0.5
    return max(0.0, 1.0 - float(score))


@transaction.atomic
def label_queue_refresh(*, kind: str, limit: int | None = None) -> int:
    """Active learning: top the labelling queue up with the production messages the model is
    least certain about (imported items wait in the same queue, ordered by uncertainty too)."""
    if kind not in (Kind.SAFETY, Kind.INTENT):
        raise ApplicationError(f"Queue {kind!r} is not a labelling queue.")
    open_production = WorkItem.objects.filter(
        kind=kind, status=WorkItem.Status.OPEN, message__isnull=False
    ).count()
    need = settings.EVALUATION_LABEL_QUEUE_SIZE - open_production
    if limit is not None:
        need = min(need, limit)
    if need <= 0:
        return 0
    queued = WorkItem.objects.filter(kind=kind, message=OuterRef("pk"))
    band = served_safety_band()
    if kind == Kind.SAFETY:
        possible, high = band
        middle = (possible + high) / 2.0 if possible is not None and high is not None else 0.5
        candidates = (
            Message.objects.filter(role=Message.Role.USER, risk_score__isnull=False)
            .select_related("reply")
            .exclude(Exists(queued))
            .annotate(distance=Abs(F("risk_score") - middle, output_field=FloatField()))
            .order_by("distance", "-id")
        )
    else:
        candidates = (
            Message.objects.filter(
                role=Message.Role.ASSISTANT, emergency=False, intent_score__isnull=False
            )
            .exclude(Exists(queued))
            .order_by("intent_score", "-id")
        )
    new = []
    for message in candidates[:need]:
        if kind == Kind.SAFETY:
            uncertainty = safety_uncertainty(message.risk_score, band)
            suggestion = _safety_suggestion(message)
            high = message.risk_level == RiskLevel.HIGH
        else:
            uncertainty = intent_uncertainty(message.intent_score)
            suggestion = _intent_suggestion(message)
            high = False
        new.append(
            WorkItem(
                kind=kind,
                reason=Reason.UNCERTAIN,
                priority=1.0 - uncertainty,
                required_reviews=label_reviews_required(key=f"m{message.pk}", high_risk=high),
                message=message,
                text_role=message.role,
                suggestion=suggestion,
                source="production",
            )
        )
    WorkItem.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    logger.info("label queue refreshed kind=%s added=%s", kind, len(new))
    return len(new)


def work_queues_refresh() -> dict[str, object]:
    return {
        "review": review_queue_refresh(),
        "safety": label_queue_refresh(kind=Kind.SAFETY),
        "intent": label_queue_refresh(kind=Kind.INTENT),
    }


def imported_label_item_build(
    *,
    kind: str,
    text: str,
    source: str,
    external_id: str,
    context: list[dict] | None = None,
    suggestion: dict | None = None,
    text_role: str = "user",
) -> WorkItem:
    """An unsaved labelling item for imported text (the importer bulk-creates them)."""
    suggestion = suggestion or {}
    if kind == Kind.SAFETY:
        score = suggestion.get("score")
        band = served_safety_band() if score is not None else (None, None)
        uncertainty = safety_uncertainty(score, band)
        high = suggestion.get("risk_level") == RiskLevel.HIGH
    else:
        uncertainty = intent_uncertainty(suggestion.get("score"))
        high = False
    return WorkItem(
        kind=kind,
        reason=Reason.IMPORTED,
        priority=1.0 - uncertainty,
        required_reviews=label_reviews_required(key=f"{source}:{external_id}", high_risk=high),
        text=text,
        text_role=text_role,
        context=context or [],
        suggestion=suggestion,
        source=source,
        external_id=external_id,
    )


__all__ = [
    "available_items",
    "imported_label_item_build",
    "label_queue_refresh",
    "label_reviews_required",
    "review_queue_refresh",
    "review_queue_sync_urgent",
    "work_item_lock",
    "work_item_record_review",
    "work_item_release",
    "work_item_take_next",
    "work_locks_release_expired",
    "work_queues_refresh",
]
