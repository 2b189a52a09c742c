"""Celery tasks of the chat runtime (routed to the ``chat`` queue). Each takes ids and calls one
service; each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from conversations.services.crisis import escalation_email_send


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
)
def escalation_notify_task(self, escalation_id: int) -> bool:
    """E-mail the on-call clinicians about an escalation (once; retried while mail fails)."""
    return escalation_email_send(escalation_id=escalation_id)
