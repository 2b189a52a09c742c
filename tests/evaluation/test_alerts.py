"""Monitoring alerts fire, notify (in-app and through the e-mail outbox) and resolve."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from conversations.models import ClinicianAlert, Escalation, Notification
from conversations.services import clinician_alert_mark_read, notifications_dispatch
from evaluation.models import AlertRule, MetricValue, MonitoringAlert
from evaluation.services import (
    alert_acknowledge,
    alert_rule_update,
    alert_rules_ensure,
    alerts_evaluate,
    metrics_compute,
)
from evaluation.tasks import alerts_evaluate_task
from tests.evaluation.conftest import api_as
from tests.factories import ChatSessionFactory, EscalationFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings):
    settings.ONCALL_EMAILS = ["oncall@example.org"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mail.outbox


def _unresolved(key):
    return MonitoringAlert.objects.filter(rule__key=key).exclude(status="resolved")


def test_defaults_follow_the_training_recipe():
    rules = alert_rules_ensure()
    assert rules["safety_recall_low"].threshold == 0.95
    assert rules["latency_p95_high"].threshold == 3000
    assert rules["error_rate_high"].threshold == 0.01
    assert rules["escalation_unacknowledged"].threshold == 15
    assert set(rules) >= {"live_fn_upper_high", "review_backlog_high", "live_fn_miss"}


def test_latency_alert_fires_from_computed_metrics_and_resolves(admin_user, outbox):
    for _ in range(3):
        ChatSessionFactory()  # every reply took 50 ms (the factory's recorded latency)
    metrics_compute()
    rule = alert_rules_ensure()["latency_p95_high"]
    assert alerts_evaluate() == {"opened": 0, "resolved": 0}  # 50 ms < 3 s, and too few

    alert_rule_update(rule=rule, actor=admin_user, threshold=40.0, min_samples=5)
    assert alerts_evaluate()["opened"] >= 1
    alert = _unresolved("latency_p95_high").get(subject="latency_p95:all")
    assert alert.value == pytest.approx(50.0) and alert.threshold == 40.0
    assert "version" in alert.title
    # Once only: evaluating again refreshes the same alert.
    assert alerts_evaluate()["opened"] == 0
    assert _unresolved("latency_p95_high").filter(subject="latency_p95:all").count() == 1
    # E-mailed through the escalation outbox (no escalation; its own subject and body).
    queued = Notification.objects.filter(escalation__isnull=True)
    assert queued.count() >= 1
    assert notifications_dispatch().sent == queued.count()
    assert any("p95" in m.subject.lower() for m in outbox)

    alert_rule_update(rule=rule, actor=admin_user, threshold=100.0)
    assert alerts_evaluate()["resolved"] >= 1
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"alert_rule.update", "alert.open", "alert.auto_resolve"} <= actions


def test_too_little_evidence_neither_fires_nor_resolves():
    rule = alert_rules_ensure()["safety_recall_low"]
    today = timezone.localdate()
    row = MetricValue.objects.create(
        name="safety_recall", day=today, model_version="v9", value=0.5, numerator=5, denominator=10
    )
    assert alerts_evaluate()["opened"] == 0  # 10 clinician-high labels < 20
    row.numerator, row.denominator, row.value = 40, 50, 0.8
    row.save()
    alerts_evaluate()
    alert = _unresolved("safety_recall_low").get(subject="safety_recall:v9")
    assert "80.0%" in alert.title
    row.numerator, row.denominator, row.value = 1, 1, 1.0  # a new day's first label
    row.save()
    alerts_evaluate()
    assert _unresolved("safety_recall_low").filter(pk=alert.pk).exists()
    assert rule.min_samples == 20


def test_unacknowledged_escalation_alert_resolves_when_its_alert_is_read(clinician):
    session = ChatSessionFactory(max_risk_level="high")
    escalation = EscalationFactory(session=session)
    ClinicianAlert.objects.create(escalation=escalation, recipient=clinician)
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert alerts_evaluate()["opened"] == 0  # 10 minutes: still within the 15
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )
    alerts_evaluate()
    alert = _unresolved("escalation_unacknowledged").get()
    assert alert.subject == f"escalation:{escalation.pk}"
    clinician_alert_mark_read(alert=ClinicianAlert.objects.get(), user=clinician)
    assert alerts_evaluate()["resolved"] == 1
    assert not _unresolved("escalation_unacknowledged").exists()


def test_opening_the_escalated_session_acknowledges_it(client, clinician):
    session = ChatSessionFactory(max_risk_level="high", flagged=True)
    escalation = EscalationFactory(session=session)
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=20)
    )
    alerts_evaluate()
    assert _unresolved("escalation_unacknowledged").count() == 1
    item = ReviewItemFactory(session=session, priority=0.0)
    client.force_login(clinician)
    assert client.get(f"/review/items/{item.pk}/").status_code == 200
    assert alerts_evaluate()["resolved"] == 1


def test_backlog_alert_acknowledged_and_resolved_by_a_person_with_audit(
    clinician, admin_user, enduser
):
    rule = alert_rules_ensure()["review_backlog_high"]
    alert_rule_update(rule=rule, actor=admin_user, threshold=1)
    for _ in range(2):
        ReviewItemFactory()
    alerts_evaluate_task()
    alert = _unresolved("review_backlog_high").get()
    assert alert.value == 2

    # The bell's summary counts it for clinicians; end users cannot read it.
    summary = api_as(clinician).get("/api/v1/monitoring-alerts/summary/")
    assert summary.status_code == 200
    assert summary.json()["open"] == 1 and summary.json()["latest"][0]["id"] == alert.pk
    assert api_as(enduser).get("/api/v1/monitoring-alerts/summary/").status_code == 403

    with pytest.raises(ApplicationError):
        alert_acknowledge(alert=alert, user=enduser)
    alert_acknowledge(alert=alert, user=clinician)
    assert api_as(clinician).get("/api/v1/monitoring-alerts/summary/").json()["open"] == 0
    response = api_as(clinician).post(
        f"/api/v1/monitoring-alerts/{alert.pk}/resolve/", {"note": "triaged"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    alert.refresh_from_db()
    assert alert.resolved_by == clinician and alert.resolution_note == "triaged"
    events = AuditEvent.objects.filter(object_type="evaluation.monitoringalert", object_id=alert.pk)
    assert {"alert.open", "alert.acknowledge", "alert.resolve"} <= set(
        events.values_list("action", flat=True)
    )
    assert (
        api_as(clinician).post(f"/api/v1/monitoring-alerts/{alert.pk}/resolve/").status_code == 400
    )


def test_only_admins_edit_rules(clinician):
    rule = alert_rules_ensure()["error_rate_high"]
    with pytest.raises(ApplicationError):
        alert_rule_update(rule=rule, actor=clinician, threshold=0.5)
    assert AlertRule.objects.get(pk=rule.pk).threshold == 0.01


def test_bell_and_history_page(client, clinician, enduser, admin_user):
    rule = alert_rules_ensure()["review_backlog_high"]
    alert_rule_update(rule=rule, actor=admin_user, threshold=0)
    ReviewItemFactory()
    alerts_evaluate()
    client.force_login(clinician)
    html = client.get("/dashboards/").content.decode()
    assert 'id="alert-bell"' in html and 'aria-live="polite"' in html
    assert "/api/v1/monitoring-alerts/summary/" in html
    page = client.get("/alerts/").content.decode()
    assert "Review backlog: 1 sessions waiting" in page and "<h2>Rules</h2>" in page
    alert = MonitoringAlert.objects.get()
    client.post(f"/alerts/{alert.pk}/", {"action": "resolve", "note": "ok"})
    alert.refresh_from_db()
    assert alert.status == "resolved"
    client.force_login(enduser)
    assert client.get("/alerts/").status_code == 403
