"""Work queues: the items a clinician may take, progress, one item and its lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations.models import Escalation, Message
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import (
    WorkItem,
    WorkLock,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def queue_items_list(
    *, kind: str, clinician: User, now: dt.datetime | None = None
) -> QuerySet[WorkItem]:
    """Open items of a queue in priority order, with lock state and, for sessions, whether an
    escalation is open and how many messages there are."""
    now = now or timezone.now()
    active_locks = (
        WorkLock.objects.filter(item=OuterRef("pk"), expires_at__gt=now)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = (
        WorkItem.objects.filter(kind=kind, status=WorkItem.Status.OPEN)
        .annotate(
            active_locks=Coalesce(Subquery(active_locks, output_field=IntegerField()), 0),
            locked_by_me=Exists(
                WorkLock.objects.filter(
                    item=OuterRef("pk"), clinician=clinician, expires_at__gt=now
                )
            ),
            done_by_me=Exists(
                LABEL_MODEL_BY_KIND[kind].objects.filter(item=OuterRef("pk"), clinician=clinician)
            ),
        )
        .order_by("priority", "id")
    )
    if kind == WorkItem.Kind.REVIEW:
        message_count = (
            Message.objects.filter(session=OuterRef("session_id"))
            .order_by()
            .values("session")
            .annotate(n=Count("id"))
            .values("n")
        )
        qs = qs.select_related("session").annotate(
            escalation_open=Exists(
                Escalation.objects.filter(
                    session=OuterRef("session_id"), status=Escalation.Status.OPEN
                )
            ),
            message_count=Coalesce(Subquery(message_count, output_field=IntegerField()), 0),
        )
    elif kind in (WorkItem.Kind.SAFETY, WorkItem.Kind.INTENT):
        qs = qs.select_related("message")
    return qs


@dataclass(frozen=True)
class Progress:
    done_today: int
    remaining: int


def work_progress(*, kind: str, clinician: User) -> Progress:
    """Items the clinician completed today, and open items still waiting for them."""
    model = LABEL_MODEL_BY_KIND[kind]
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    done_today = model.objects.filter(clinician=clinician, created_at__gte=start)
    if kind == WorkItem.Kind.SAFETY:
        done_today = done_today.filter(item__kind=WorkItem.Kind.SAFETY)
    remaining = (
        WorkItem.objects.filter(kind=kind, status=WorkItem.Status.OPEN)
        .exclude(Exists(model.objects.filter(item=OuterRef("pk"), clinician=clinician)))
        .count()
    )
    return Progress(done_today=done_today.count(), remaining=remaining)


def work_item_get(*, item_id: int, kind: str | None = None) -> WorkItem | None:
    qs = WorkItem.objects.select_related("session", "message")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.filter(pk=item_id).first()


def work_lock_of(*, item: WorkItem, clinician: User) -> WorkLock | None:
    return WorkLock.objects.filter(
        item=item, clinician=clinician, expires_at__gt=timezone.now()
    ).first()
