"""Reads of the monitoring alerts: the bell's summary and the history page."""

from __future__ import annotations

from django.db.models import QuerySet

from conversations.models import ClinicianAlert
from evaluation.models import AlertRule, MonitoringAlert

UNRESOLVED = (MonitoringAlert.Status.OPEN, MonitoringAlert.Status.ACKNOWLEDGED)


def alert_list(*, status: str = "") -> QuerySet[MonitoringAlert]:
    """Alerts newest first (``status``: open, acknowledged, resolved, or "" for all)."""
    alerts = MonitoringAlert.objects.select_related(
        "rule", "acknowledged_by", "resolved_by"
    ).order_by("-opened_at", "-id")
    if status:
        alerts = alerts.filter(status=status)
    return alerts


def alert_summary(*, user, latest: int = 5) -> dict:
    """What the bell shows: open alerts (not yet acknowledged), unresolved ones, the signed-in
    person's unread escalation alerts, and the latest open alerts' titles."""
    open_alerts = MonitoringAlert.objects.filter(status=MonitoringAlert.Status.OPEN)
    newest = list(
        open_alerts.order_by("-opened_at", "-id").values("id", "title", "opened_at", "link")[
            :latest
        ]
    )
    return {
        "open": open_alerts.count(),
        "unresolved": MonitoringAlert.objects.filter(status__in=UNRESOLVED).count(),
        "escalations_unread": ClinicianAlert.objects.filter(
            recipient=user, read_at__isnull=True
        ).count(),
        "latest": newest,
    }


def alert_rule_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.select_related("updated_by").order_by("key")
