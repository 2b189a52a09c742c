"""Celery tasks of the chat runtime (routed to the ``chat`` queue). Each takes ids and calls one
service; each is safe to run twice. Tasks import services; services queue tasks by name."""

from __future__ import annotations

import logging

from celery import shared_task

from conversations.services.crisis import NOTIFY_MAX_ATTEMPTS, notifications_dispatch
from conversations.services.masking import messages_mask_sweep
from conversations.services.privacy import sessions_retention_purge

logger = logging.getLogger(__name__)


@shared_task(
    name="conversations.tasks.escalation_notify_task",
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=NOTIFY_MAX_ATTEMPTS,
)
def escalation_notify_task(self, escalation_id: int) -> int:
    """Send an escalation's pending e-mails; run again when a failed one is next due.

    The beat sweep (:func:`notifications_dispatch_due_task`) sends them too, so nothing is lost
    when this task is never queued or runs out of retries. Returns how many were sent now.
    """
    result = notifications_dispatch(escalation_id=escalation_id)
    if result.failed and result.next_attempt_at is not None and not self.request.is_eager:
        raise self.retry(eta=result.next_attempt_at)
    return result.sent


@shared_task(name="conversations.tasks.notifications_dispatch_due_task", ignore_result=True)
def notifications_dispatch_due_task() -> int:
    """Beat, every minute: send every pending notification that is due. Returns how many."""
    return notifications_dispatch().sent


@shared_task(
    name="conversations.tasks.sessions_retention_purge_task",
    soft_time_limit=240,
    time_limit=300,
)
def sessions_retention_purge_task() -> dict:
    """Beat, every hour: delete sessions older than ``ARI_RETENTION_DAYS`` (0: off), never one
    with an open escalation; audited per batch. Returns the counts."""
    return sessions_retention_purge().as_dict()


@shared_task(
    name="conversations.tasks.message_masks_sweep_task",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=55,
)
def message_masks_sweep_task() -> int:
    """Beat, every minute: store the masked text of the recent messages that have none
    (``messages_mask_sweep``), so no page has to mask them. A failure is logged without any
    text; the first page that shows the messages masks them instead. Returns how many were
    masked."""
    try:
        return messages_mask_sweep()
    except Exception as exc:  # noqa: BLE001 - fail-safe: the pages mask what is missing
        logger.error("message masking sweep failed (%s)", type(exc).__name__)
        return 0
