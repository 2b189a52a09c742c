"""Closing an escalation from the review workspace: the chat runtime's service closes it (and
lifts the session's safety-check mode when no other escalation of the session is open); the
workspace records who closed it, in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from ari_review.audit import audit_event_record
from conversations.models import Escalation
from conversations.services.crisis import escalation_close as runtime_escalation_close

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def escalation_close(*, escalation: Escalation, clinician: User, note: str = "") -> Escalation:
    note = (note or "").strip()
    escalation = runtime_escalation_close(escalation=escalation, clinician=clinician, note=note)
    audit_event_record(
        actor=clinician,
        action="escalation.close",
        object_type="conversations.escalation",
        object_id=escalation.pk,
        before={"status": Escalation.Status.OPEN},
        after={"status": "closed", "session_id": escalation.session_id, "note": note},
    )
    return escalation
