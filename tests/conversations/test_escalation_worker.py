"""The escalation e-mail goes through a real Celery worker on Redis (the ``chat`` queue).

More on the outbox (retries, broker outage, no recipients): test_notification_outbox.py."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from conversations.models import Escalation, Notification
from conversations.services import chat_turn_run, session_create
from evaluation.services.starter import starter_content_load
from tests.conversations.conftest import FixedRisk

HIGH_RISK = "I want to end my life tonight"


@pytest.mark.celery_worker
def test_escalation_email_is_sent_by_the_worker(celery_worker, enduser, clinician, settings):
    settings.ONCALL_EMAILS = ["pager@example.org"]
    starter_content_load()
    session = session_create(user=enduser, session_type="check_in")

    result = chat_turn_run(
        session=session, text=HIGH_RISK, safety_classifier=FixedRisk("none", {HIGH_RISK: "high"})
    )
    assert result.reply.emergency

    escalation = Escalation.objects.get(session=session)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        escalation.refresh_from_db()
        if escalation.notified_at is not None:
            break
        time.sleep(0.1)
    assert escalation.notified_at is not None  # set only once an e-mail was really sent
    assert [m.to for m in mail.outbox] == [["pager@example.org"]]
    (notification,) = Notification.objects.filter(escalation=escalation)
    assert (notification.address, notification.status) == ("pager@example.org", "sent")
