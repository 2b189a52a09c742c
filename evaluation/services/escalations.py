"""Closing an escalation from the review workspace.

The chat runtime owns escalations. When ``conversations.services`` provides
``escalation_close(*, escalation, clinician, note)`` it is used; until then this module closes
the escalation itself (status, who, when, note) and lifts the session's safety-check mode when
no other escalation of the session is open.
"""

from __future__ import annotations

import importlib
import logging

from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from conversations.models import ChatSession, Escalation

logger = logging.getLogger(__name__)


def _conversations_escalation_close():
    try:
        module = importlib.import_module("conversations.services")
    except ImportError:
        return None
    return getattr(module, "escalation_close", None)


def _close_here(*, escalation: Escalation, clinician, note: str) -> Escalation:
    escalation.status = Escalation.Status.CLOSED
    escalation.closed_by = clinician
    escalation.closed_at = timezone.now()
    escalation.resolution_note = note
    escalation.save(update_fields=["status", "closed_by", "closed_at", "resolution_note"])
    still_open = Escalation.objects.filter(
        session_id=escalation.session_id, status=Escalation.Status.OPEN
    ).exists()
    if not still_open:
        ChatSession.objects.filter(pk=escalation.session_id).update(safety_mode=False)
    return escalation


@transaction.atomic
def escalation_close(*, escalation: Escalation, clinician, note: str = "") -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status != Escalation.Status.OPEN:
        raise ApplicationError("This escalation is already closed.")
    note = (note or "").strip()
    before = {"status": escalation.status}
    delegate = _conversations_escalation_close()
    if delegate is not None:
        try:
            escalation = delegate(escalation=escalation, clinician=clinician, note=note)
        except ApplicationError:
            raise
        except Exception as exc:  # the chat runtime's own domain error
            raise ApplicationError(str(exc)) from exc
    else:
        escalation = _close_here(escalation=escalation, clinician=clinician, note=note)
    audit_event_record(
        actor=clinician,
        action="escalation.close",
        object_type="conversations.escalation",
        object_id=escalation.pk,
        before=before,
        after={"status": "closed", "session_id": escalation.session_id, "note": note},
    )
    logger.info("escalation closed escalation_id=%s", escalation.pk)
    return escalation
