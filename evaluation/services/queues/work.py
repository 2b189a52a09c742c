"""Taking work: the items a clinician may take next, locks with expiry, and the N-reviews rule
shared by every kind of clinician work (how many clinicians review an item)."""

from __future__ import annotations

import logging
import zlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import WorkItem, WorkLock
from evaluation.services.queues.review import review_queue_sync_urgent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


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


def _others_active_locks(*, clinician: User, now: datetime) -> Coalesce:
    locks = (
        WorkLock.objects.filter(item=OuterRef("pk"), expires_at__gt=now)
        .exclude(clinician=clinician)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(locks, output_field=IntegerField()), 0)


def _done_by(kind: str, clinician: User) -> Exists:
    model = LABEL_MODEL_BY_KIND[kind]
    return Exists(model.objects.filter(item=OuterRef("pk"), clinician=clinician))


def available_items(
    *, kind: str, clinician: User, now: datetime | None = None
) -> QuerySet[WorkItem]:
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
    *, kind: str, clinician: User, exclude_ids: tuple[int, ...] | list[int] = ()
) -> WorkItem | None:
    """Lock and return the clinician's next item of ``kind`` (their current one if they hold
    one), or None when the queue is empty for them. ``exclude_ids``: items just skipped."""
    if kind not in WorkItem.Kind.values:
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
    if kind == WorkItem.Kind.REVIEW:
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
def work_item_lock(*, item: WorkItem, clinician: User) -> WorkLock:
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
def work_item_release(*, item: WorkItem, clinician: User) -> int:
    """Give the item back (skip). Returns the number of locks removed (0 or 1)."""
    deleted, _ = WorkLock.objects.filter(item=item, clinician=clinician).delete()
    return deleted


def work_item_record_review(*, item: WorkItem, clinician: User, kind: str) -> WorkItem:
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
