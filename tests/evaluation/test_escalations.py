"""Clinicians close escalations from the review workspace."""

import pytest

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from evaluation.services import escalation_close
from tests.evaluation.conftest import api_as
from tests.factories import ChatSessionFactory, EscalationFactory

pytestmark = pytest.mark.django_db


def test_closing_an_escalation_records_who_when_note_and_lifts_safety_mode(clinician):
    session = ChatSessionFactory(flagged=True, max_risk_level="high")
    session.safety_mode = True
    session.save(update_fields=["safety_mode"])
    escalation = EscalationFactory(session=session)
    closed = escalation_close(escalation=escalation, clinician=clinician, note="Called back; safe.")
    closed.refresh_from_db()
    assert closed.status == "closed" and closed.closed_by == clinician
    assert closed.closed_at is not None and closed.resolution_note == "Called back; safe."
    session.refresh_from_db()
    assert session.safety_mode is False
    event = AuditEvent.objects.get(action="escalation.close")
    assert event.object_id == str(escalation.pk) and event.after["note"] == "Called back; safe."
    with pytest.raises(ApplicationError, match="already closed"):
        escalation_close(escalation=escalation, clinician=clinician, note="")


def test_safety_mode_stays_while_another_escalation_is_open(clinician):
    session = ChatSessionFactory()
    session.safety_mode = True
    session.save(update_fields=["safety_mode"])
    first, _second = EscalationFactory(session=session), EscalationFactory(session=session)
    escalation_close(escalation=first, clinician=clinician, note="")
    session.refresh_from_db()
    assert session.safety_mode is True


def test_close_escalation_api(clinician, enduser):
    escalation = EscalationFactory()
    url = f"/api/v1/escalations/{escalation.pk}/close/"
    assert api_as(enduser).post(url, {"note": "x"}, format="json").status_code == 403
    response = api_as(clinician).post(url, {"note": "Reached the user."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    again = api_as(clinician).post(url, {}, format="json")
    assert again.status_code == 400 and "already closed" in again.json()["detail"]
