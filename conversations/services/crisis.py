"""The emergency flow's writes: escalations, on-call notifications, leaving safety-check mode.

A high-risk message opens (at most) one escalation per session, which puts the session at the
top of the clinicians' review queue. In the same transaction every on-call clinician gets an
in-app alert and the outbox gets one ``Notification`` row per e-mail address (ONCALL_EMAILS and
the on-call users' addresses), so the e-mails are recorded with the escalation or not at all.

Delivery (:func:`notifications_dispatch`) runs in a Celery task queued on commit without waiting
on the broker, and in a beat sweep every minute that sends whatever is pending and due: a dead
broker or mail server delays an e-mail, never loses it and never delays the chat turn. Failed
sends are retried with exponential backoff and given up after ``NOTIFY_MAX_ATTEMPTS``. With no
one to e-mail, the escalation says so (``NotificationStatus.NO_RECIPIENTS``) and every admin gets
an in-app alert. Notifications carry ids and a link, never message text or identities.

This module never imports ``conversations.tasks``: it queues the task by name.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.celery import task_enqueue_nowait
from ari_review.roles import ADMIN, CLINICIAN, user_has_role
from conversations.models import (
    ChatSession,
    ClinicianAlert,
    Escalation,
    Message,
    Notification,
    NotificationStatus,
)
from conversations.selectors import oncall_recipients
from conversations.services.safety_mode import safety_mode_end_by_clinician

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# The Celery task that dispatches one escalation's notifications (conversations/tasks.py).
ESCALATION_NOTIFY_TASK = "conversations.tasks.escalation_notify_task"
# The sweep that sends every due notification (monitoring alerts' e-mails are queued to it).
NOTIFICATIONS_DUE_TASK = "conversations.tasks.notifications_dispatch_due_task"
# A failing e-mail is tried again after 30 s, 1 min, 2 min... (at most 30 min apart) and given
# up after this many attempts (about an hour and a half in all).
NOTIFY_MAX_ATTEMPTS = 8
NOTIFY_RETRY_BASE_SECONDS = 30
NOTIFY_RETRY_MAX_SECONDS = 30 * 60
# A claimed notification is not claimed again for this long (its dispatcher died mid-send).
NOTIFY_CLAIM_SECONDS = 5 * 60


_offline = contextvars.ContextVar("escalations_offline", default=False)


@contextmanager
def escalations_offline() -> Iterator[None]:
    """Offline evaluation (frozen test sets played through the chat turn): the emergency reply
    is produced and recorded as always, but no escalation is opened and nobody is paged."""
    token = _offline.set(True)
    try:
        yield
    finally:
        _offline.reset(token)


def escalations_are_offline() -> bool:
    return _offline.get()


def escalation_open(*, session: ChatSession, message: Message) -> tuple[Escalation, bool]:
    """Open the session's escalation (or return the open one). Call inside a transaction.

    A new escalation writes an in-app alert for every on-call clinician and one pending
    notification per e-mail address, and queues their delivery on commit. With no address to
    e-mail it is marked "no one notified" and every admin gets an in-app alert instead.
    Returns ``(escalation, created)``.
    """
    existing = (
        Escalation.objects.select_for_update()
        .filter(session=session, status=Escalation.Status.OPEN)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        return existing, False
    users = list(oncall_recipients().values_list("pk", "email"))
    addresses = _notification_addresses(users)
    escalation = Escalation.objects.create(
        session=session,
        message=message,
        notification_status=(
            NotificationStatus.QUEUED if addresses else NotificationStatus.NO_RECIPIENTS
        ),
    )
    ClinicianAlert.objects.bulk_create(
        [ClinicianAlert(escalation=escalation, recipient_id=pk) for pk, _ in users],
        ignore_conflicts=True,
    )
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                escalation=escalation,
                recipient_id=user_id,
                address=address,
                next_attempt_at=now,
            )
            for address, user_id in addresses.items()
        ]
    )
    if addresses:
        transaction.on_commit(partial(_notifications_queue, escalation_id=escalation.pk))
    else:
        admins = _admins_alert(escalation=escalation)
        logger.error(
            "escalation opened with no one to e-mail escalation_id=%s admins_alerted=%s",
            escalation.pk,
            admins,
        )
    logger.warning(
        "escalation opened escalation_id=%s session_id=%s alerts=%s emails=%s",
        escalation.pk,
        session.pk,
        len(users),
        len(addresses),
    )
    return escalation, True


def _notification_addresses(users: list[tuple[int, str]]) -> dict[str, int | None]:
    """address -> on-call user id (None for ONCALL_EMAILS), one entry per address."""
    addresses: dict[str, int | None] = {}
    seen: set[str] = set()
    for address, user_id in [(a, None) for a in settings.ONCALL_EMAILS] + [
        (email, pk) for pk, email in users
    ]:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            addresses[address] = user_id
    return addresses


def notifications_queue(*, subject: str, body: str) -> int:
    """Queue one e-mail per on-call address (ONCALL_EMAILS and the on-call users) that is not
    about an escalation: a monitoring alert. Written in the caller's transaction, sent after
    commit and by the beat sweep, like escalation e-mails. Returns how many were queued."""
    users = [(pk, email) for pk, email in oncall_recipients().values_list("pk", "email")]
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                subject=subject[:200],
                body=body,
                recipient_id=user_id,
                address=address,
                next_attempt_at=now,
            )
            for address, user_id in _notification_addresses(users).items()
        ]
    )
    if rows:
        transaction.on_commit(_notifications_due_queue)
    return len(rows)


def _notifications_due_queue() -> None:
    """After commit: queue the sweep (never raises; the beat sweep sends what this did not)."""
    try:
        task_enqueue_nowait(NOTIFICATIONS_DUE_TASK, kwargs={})
    except Exception as exc:  # noqa: BLE001 - the rows stay pending for the sweep
        logger.error("notifications not dispatched (%s)", type(exc).__name__)


def _admins_alert(*, escalation: Escalation) -> int:
    """An in-app alert about ``escalation`` for every active admin. Returns how many."""
    admins = list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=ADMIN) | Q(is_superuser=True))
        .values_list("pk", flat=True)
        .distinct()
    )
    ClinicianAlert.objects.bulk_create(
        [ClinicianAlert(escalation=escalation, recipient_id=pk) for pk in admins],
        ignore_conflicts=True,
    )
    return len(admins)


def _notifications_queue(*, escalation_id: int) -> None:
    """After commit: queue the escalation's delivery (never raises, never waits on the broker)."""
    try:
        queued = task_enqueue_nowait(
            ESCALATION_NOTIFY_TASK, kwargs={"escalation_id": escalation_id}
        )
    except Exception as exc:  # in-process delivery failed: the rows stay pending for the sweep
        logger.error(
            "escalation notifications not dispatched escalation_id=%s (%s)",
            escalation_id,
            type(exc).__name__,
        )
        return
    if not queued:
        logger.warning(
            "escalation notifications not queued (broker down), left to the sweep escalation_id=%s",
            escalation_id,
        )


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    failed: int = 0  # failed attempts, given-up ones included
    given_up: int = 0
    # When the earliest notification still pending (of the escalation dispatched) is due.
    next_attempt_at: dt.datetime | None = None


def notifications_dispatch(
    *, escalation_id: int | None = None, now: dt.datetime | None = None, limit: int = 500
) -> DispatchResult:
    """Send the pending notifications that are due, of one escalation or of all: one e-mail each.

    Each row is claimed before it is sent (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL,
    then a conditional update that also guards SQLite), and a claim holds the row for
    ``NOTIFY_CLAIM_SECONDS``: concurrent dispatchers never send one row twice. A failed send is
    retried after an exponential backoff and given up after ``NOTIFY_MAX_ATTEMPTS`` attempts.
    ``now`` fixes the clock (tests); ``limit`` caps the rows sent in one call.
    """
    sent = failed = given_up = 0
    for _ in range(limit):
        at = now or timezone.now()
        notification = _notification_claim(escalation_id=escalation_id, now=at)
        if notification is None:
            break
        try:
            _notification_email(notification).send()
        except Exception as exc:  # any backend's failure: recorded on the row, retried later
            failed += 1
            given_up += _notification_failed(notification=notification, exc=exc, now=at)
        else:
            sent += 1
            _notification_sent(notification=notification, now=now or timezone.now())
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    if escalation_id is not None:
        pending = pending.filter(escalation_id=escalation_id)
    next_attempt_at = (
        pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    )
    if sent or failed:
        logger.info(
            "notifications dispatched escalation_id=%s sent=%s failed=%s given_up=%s",
            escalation_id,
            sent,
            failed,
            given_up,
        )
    return DispatchResult(sent, failed, given_up, next_attempt_at)


def _notification_claim(*, escalation_id: int | None, now: dt.datetime) -> Notification | None:
    due = Notification.objects.filter(
        status=Notification.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    if escalation_id is not None:
        due = due.filter(escalation_id=escalation_id)
    for _ in range(5):  # SQLite has no row locks: another dispatcher may win a row first
        with transaction.atomic():
            candidate = (
                due.select_related("escalation").select_for_update(skip_locked=True, of=("self",))
            ).first()
            if candidate is None:
                return None
            claimed = Notification.objects.filter(
                pk=candidate.pk,
                status=Notification.Status.PENDING,
                next_attempt_at=candidate.next_attempt_at,
            ).update(
                attempts=F("attempts") + 1,
                next_attempt_at=now + dt.timedelta(seconds=NOTIFY_CLAIM_SECONDS),
            )
        if claimed:
            candidate.attempts += 1
            return candidate
    return None


def _notification_email(notification: Notification) -> EmailMessage:
    escalation = notification.escalation
    if escalation is None:  # a monitoring alert: its text was written with the row
        return EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[notification.address],
        )
    link = f"{settings.ARI_PUBLIC_URL.rstrip('/')}/review/"
    return EmailMessage(
        subject=f"[Ari Review] Escalation #{escalation.pk}: high-risk chat session",
        body=(
            f"A chat session was escalated after a high-risk message.\n\n"
            f"Escalation: #{escalation.pk}\nSession: #{escalation.session_id}\n"
            f"Opened: {escalation.created_at:%Y-%m-%d %H:%M} UTC\n\n"
            f"It is at the top of the review queue: {link}\n\n"
            f"(This e-mail deliberately contains no message text.)"
        ),
        to=[notification.address],
    )


def _notification_sent(*, notification: Notification, now: dt.datetime) -> None:
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.SENT, sent_at=now, last_error=""
        )
        Escalation.objects.filter(pk=notification.escalation_id or 0).update(
            notification_status=NotificationStatus.SENT,
            notified_at=Coalesce(F("notified_at"), Value(now)),
        )


def _notification_failed(*, notification: Notification, exc: Exception, now: dt.datetime) -> int:
    """Record a failed send: retry later, or give up. Returns 1 when given up."""
    error = _error_summary(exc)
    if notification.attempts < NOTIFY_MAX_ATTEMPTS:
        delay = min(
            NOTIFY_RETRY_BASE_SECONDS * 2 ** (notification.attempts - 1), NOTIFY_RETRY_MAX_SECONDS
        )
        # Still pending (the claim never changed its status): due again after the delay.
        Notification.objects.filter(pk=notification.pk).update(
            next_attempt_at=now + dt.timedelta(seconds=delay), last_error=error
        )
        logger.warning(
            "notification failed, retried in %ss notification_id=%s escalation_id=%s "
            "attempts=%s error=%s",
            delay,
            notification.pk,
            notification.escalation_id,
            notification.attempts,
            error,
        )
        return 0
    if notification.escalation_id is None:  # a monitoring alert's e-mail: it stays in-app
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.FAILED, last_error=error
        )
        logger.error("notification given up notification_id=%s error=%s", notification.pk, error)
        return 1
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=notification.escalation_id)
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.FAILED, last_error=error
        )
        reached_or_pending = escalation.notifications.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.SENT]
        ).exists()
        if not reached_or_pending:
            escalation.notification_status = NotificationStatus.FAILED
            escalation.save(update_fields=["notification_status"])
            _admins_alert(escalation=escalation)
    logger.error(
        "notification given up notification_id=%s escalation_id=%s attempts=%s error=%s%s",
        notification.pk,
        notification.escalation_id,
        notification.attempts,
        error,
        "" if reached_or_pending else " (no one notified, admins alerted)",
    )
    return 1


def _error_summary(exc: Exception) -> str:
    """The error's kind (and SMTP code), never its text: that may quote addresses."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:200]


def escalation_close(*, escalation: Escalation, clinician: User, note: str = "") -> Escalation:
    """A clinician closes an escalation; with none left open, the session leaves safety mode."""
    if not user_has_role(clinician, CLINICIAN, ADMIN):
        raise ApplicationError("Only clinicians can close escalations.")
    with transaction.atomic():
        # The session first, as a chat turn locks it (then its escalation): no lock cycle.
        ChatSession.objects.select_for_update().filter(pk=escalation.session_id).first()
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if escalation.status != Escalation.Status.OPEN:
            raise ApplicationError("This escalation is already closed.")
        now = timezone.now()
        escalation.status = Escalation.Status.CLOSED
        escalation.closed_by = clinician
        escalation.closed_at = now
        escalation.resolution_note = (note or "").strip()
        escalation.save(update_fields=["status", "closed_by", "closed_at", "resolution_note"])
        others_open = Escalation.objects.filter(
            session_id=escalation.session_id, status=Escalation.Status.OPEN
        ).exists()  # this one is closed by now
        if not others_open:
            safety_mode_end_by_clinician(session_id=escalation.session_id)
    logger.info("escalation closed escalation_id=%s clinician_id=%s", escalation.pk, clinician.pk)
    return escalation


def clinician_alert_mark_read(*, alert: ClinicianAlert, user: User) -> ClinicianAlert:
    if alert.recipient_id != user.pk:
        raise ApplicationError("This alert is not yours.", status_code=404)
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert
