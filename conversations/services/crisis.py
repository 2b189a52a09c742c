"""The emergency flow's writes: escalations, on-call notifications, leaving safety-check mode.

A high-risk message opens (at most) one escalation per session, which puts the session at the
top of the clinicians' review queue; every on-call clinician gets an in-app alert at once (same
transaction) and an e-mail through Django's e-mail backend (a Celery task on the ``chat`` queue,
queued on commit). Notifications carry ids and a link, never message text or identities.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.roles import ADMIN, CLINICIAN, user_has_role
from conversations.models import (
    ChatSession,
    ClinicianAlert,
    Escalation,
    Message,
    SafetyResolution,
)
from conversations.selectors import oncall_recipients

logger = logging.getLogger(__name__)

_SAFE_BY_NEGATED_HARM = re.compile(
    r"(?i)\b(?:i'?m\s+not|i\s+am\s+not|not)\s+going\s+to\s+(?:hurt|harm|kill|do\s+anything\s+to)"
    r"\s+myself\b|\b(?:i\s+won'?t|i\s+will\s+not)\s+(?:hurt|harm|kill|do\s+anything\s+to)\s+"
    r"myself\b|\bi'?m\s+not\s+in\s+danger\b|\bi\s+am\s+not\s+in\s+danger\b"
)
_NOT_SAFE = re.compile(
    r"(?i)\b(?:not|n'?t|never|no\s+longer|hardly|barely)\s+(?:\w+\s+){0,2}?(?:safe|okay|ok|fine|"
    r"sure)\b|\bunsafe\b|\bin\s+danger\b|\bhelp\s+me\b|\bno\b"
)
_SAFE = re.compile(
    r"(?i)\b(?:i'?m|i\s+am|im|i\s+feel|i'?m\s+feeling|feeling|i\s+think\s+i'?m)\s+"
    r"(?:\w+\s+){0,2}?safe\b|^\s*(?:yes|yeah|yep|yup|yes\s+i\s+am|i\s+am|i'?m\s+ok(?:ay)?|"
    r"i'?m\s+fine|i'?m\s+alright)\b[\s,.!]*(?:(?:i'?m|i\s+am)\s+)?(?:safe|ok(?:ay)?|fine|"
    r"alright)?[\s,.!]*(?:(?:(?:for|right)\s+now|now|thanks?(?:\s+you)?|really|i\s+promise)"
    r"[\s,.!]*)*$"
)


def user_says_safe(text: str) -> bool:
    """Does the message say the user is safe right now? Conservative: any doubt means no."""
    text = text or ""
    if _SAFE_BY_NEGATED_HARM.search(text):
        return True
    if _NOT_SAFE.search(text):
        return False
    return bool(_SAFE.search(text))


def escalation_open(*, session: ChatSession, message: Message) -> tuple[Escalation, bool]:
    """Open the session's escalation (or return the open one). Call inside a transaction.

    A new escalation creates an in-app alert for every on-call clinician and queues the e-mail
    on commit. Returns ``(escalation, created)``.
    """
    existing = (
        Escalation.objects.select_for_update()
        .filter(session=session, status=Escalation.Status.OPEN)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        return existing, False
    escalation = Escalation.objects.create(session=session, message=message)
    recipients = list(oncall_recipients().values_list("pk", flat=True))
    ClinicianAlert.objects.bulk_create(
        [ClinicianAlert(escalation=escalation, recipient_id=pk) for pk in recipients],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: _queue_notification(escalation.pk))
    logger.warning(
        "escalation opened escalation_id=%s session_id=%s alerts=%s",
        escalation.pk,
        session.pk,
        len(recipients),
    )
    return escalation, True


def _queue_notification(escalation_id: int) -> None:
    from conversations.tasks import escalation_notify_task

    try:
        escalation_notify_task.delay(escalation_id)
    except Exception:  # the broker is down: the in-app alert already exists
        logger.exception("escalation e-mail not queued escalation_id=%s", escalation_id)


def escalation_email_send(*, escalation_id: int) -> bool:
    """E-mail the on-call clinicians about an escalation, once. Returns True when sent now."""
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().filter(pk=escalation_id).first()
        if escalation is None or escalation.notified_at is not None:
            return False
        addresses = list(settings.ONCALL_EMAILS)
        addresses += [
            email for email in oncall_recipients().values_list("email", flat=True) if email
        ]
        addresses = sorted(set(addresses))
        if addresses:
            link = f"{settings.ARI_PUBLIC_URL.rstrip('/')}/review/"
            send_mail(
                subject=f"[Ari Review] Escalation #{escalation.pk}: high-risk chat session",
                message=(
                    f"A chat session was escalated after a high-risk message.\n\n"
                    f"Escalation: #{escalation.pk}\nSession: #{escalation.session_id}\n"
                    f"Opened: {escalation.created_at:%Y-%m-%d %H:%M} UTC\n\n"
                    f"It is at the top of the review queue: {link}\n\n"
                    f"(This e-mail deliberately contains no message text.)"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=addresses,
            )
        escalation.notified_at = timezone.now()
        escalation.save(update_fields=["notified_at"])
    logger.info(
        "escalation e-mail sent escalation_id=%s recipients=%s", escalation_id, len(addresses)
    )
    return True


def escalation_close(*, escalation: Escalation, clinician, note: str = "") -> Escalation:
    """A clinician closes an escalation; with none left open, the session leaves safety mode."""
    if not user_has_role(clinician, CLINICIAN, ADMIN):
        raise ApplicationError("Only clinicians can close escalations.")
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if escalation.status != Escalation.Status.OPEN:
            raise ApplicationError("This escalation is already closed.")
        now = timezone.now()
        escalation.status = Escalation.Status.CLOSED
        escalation.closed_by = clinician
        escalation.closed_at = now
        escalation.resolution_note = (note or "").strip()
        escalation.save(update_fields=["status", "closed_by", "closed_at", "resolution_note"])
        others_open = (
            Escalation.objects.filter(
                session_id=escalation.session_id, status=Escalation.Status.OPEN
            )
            .exclude(pk=escalation.pk)
            .exists()
        )
        if not others_open:
            ChatSession.objects.filter(pk=escalation.session_id, safety_mode=True).update(
                safety_mode=False,
                safety_resolved_at=now,
                safety_resolution=SafetyResolution.CLINICIAN_CLOSED,
            )
    logger.info("escalation closed escalation_id=%s clinician_id=%s", escalation.pk, clinician.pk)
    return escalation


def clinician_alert_mark_read(*, alert: ClinicianAlert, user) -> ClinicianAlert:
    if alert.recipient_id != user.pk:
        raise ApplicationError("This alert is not yours.", status_code=404)
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert
