"""Monitoring alerts: rules with defaults (editable by admins), evaluated by beat, delivered in-app
(the bell) and by e-mail through the escalation outbox; acknowledged and resolved with audit.

Rules and their defaults (ARCHITECTURE.md, "alerts while serving"; docs/monitoring.md):

- ``safety_recall_low``: today's safety recall on clinician labels below 0.95 (per version).
- ``latency_p95_high``: today's p95 latency above 3000 ms (per generator version).
- ``error_rate_high``: today's model error rate above 1% (per generator version).
- ``live_fn_upper_high``: the latest week's live miss-rate upper bound above 5% (per version).
- ``escalation_unacknowledged``: an open escalation nobody acknowledged (read its in-app alert,
  opened its session in the workspace, or closed it) within 15 minutes.
- ``review_backlog_high``: more than 200 sessions waiting in the review queue.
- ``live_fn_miss``: a blinded sample turned out high risk (opened by the label, not by beat).

A rule fires once per subject (a version, an escalation, the queue): at most one alert per
(rule, subject) is not resolved. When the evaluating job sees the condition clear (with enough
evidence: ``min_samples``), it resolves the alert itself; people acknowledge and resolve them
in the workspace. Every transition is audited; titles carry figures and ids, never text.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.models import AuditEvent
from ari_review.roles import ADMIN, CLINICIAN, user_has_role
from conversations.models import ClinicianAlert, Escalation
from conversations.services import notifications_queue
from evaluation.metrics_catalogue import LIVE_FN_RATE, LIVE_FN_UPPER, METRICS
from evaluation.models import AlertRule, MetricValue, MonitoringAlert, WorkItem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleDefault:
    title: str
    threshold: float
    min_samples: int
    description: str


DEFAULT_RULES: dict[str, RuleDefault] = {
    "safety_recall_low": RuleDefault(
        "Safety recall below limit",
        0.95,
        20,
        "Today's recall of high risk on clinician safety labels, per safety model version "
        "(a share, 0-1); fires below the threshold. min_samples: clinician-high labels.",
    ),
    "latency_p95_high": RuleDefault(
        "p95 latency above limit",
        3000.0,
        20,
        "Today's 95th percentile of user message to reply, in milliseconds; fires above.",
    ),
    "error_rate_high": RuleDefault(
        "Model error rate above limit",
        0.01,
        50,
        "Today's share of replies whose generator failed and fell back (0-1); fires above.",
    ),
    "live_fn_upper_high": RuleDefault(
        "Live missed-crisis rate may be too high",
        0.05,
        30,
        "The latest week's upper bound of the live missed-crisis rate (blinded sample of "
        "sessions scored none/low), per safety version (0-1); fires above. min_samples: "
        "labelled sessions in the sample.",
    ),
    "escalation_unacknowledged": RuleDefault(
        "Escalation not acknowledged",
        15.0,
        0,
        "Minutes an open escalation may wait before someone reads its alert or closes it.",
    ),
    "review_backlog_high": RuleDefault(
        "Review backlog above limit",
        200.0,
        0,
        "Sessions waiting in the review queue; fires above.",
    ),
    "live_fn_miss": RuleDefault(
        "Missed crisis found in the blinded sample",
        0.0,
        0,
        "A clinician labelled a blinded sample (a session the model scored none or low) high "
        "risk. Opened by the label; resolved by a person.",
    ),
}

# Metric rules: (rule key, metric name, fires when the value is above the threshold).
_METRIC_RULES = (
    ("safety_recall_low", "safety_recall", False),
    ("latency_p95_high", "latency_p95", True),
    ("error_rate_high", "error_rate", True),
)


def alert_rules_ensure() -> dict[str, AlertRule]:
    """Every rule, created with its default when missing (admins edit them afterwards)."""
    rules = {rule.key: rule for rule in AlertRule.objects.all()}
    for key, default in DEFAULT_RULES.items():
        if key not in rules:
            rules[key], _ = AlertRule.objects.get_or_create(
                key=key,
                defaults={
                    "title": default.title,
                    "threshold": default.threshold,
                    "min_samples": default.min_samples,
                    "description": default.description,
                },
            )
    return rules


def alert_rule_update(*, rule: AlertRule, actor, **fields) -> AlertRule:
    """An admin changes a rule (threshold, min_samples, enabled, email); audited."""
    if not user_has_role(actor, ADMIN):
        raise ApplicationError("Only admins can change alert rules.", status_code=403)
    allowed = {"threshold", "min_samples", "enabled", "email"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "threshold" in fields and fields["threshold"] is None:
        raise ApplicationError("A rule needs a threshold.")
    before = {name: getattr(rule, name) for name in allowed}
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.updated_by = actor
    rule.save()
    audit_event_record(
        actor=actor,
        action="alert_rule.update",
        obj=rule,
        before=before,
        after={name: getattr(rule, name) for name in allowed},
    )
    return rule


def _email_body(alert: MonitoringAlert) -> str:
    link = f"{settings.ARI_PUBLIC_URL.rstrip('/')}{alert.link or reverse('evaluation:alerts')}"
    figures = ""
    if alert.value is not None:
        figures = f"Value: {alert.value:.4g} (limit {alert.threshold:.4g})\n"
    return (
        f"{alert.title}\n\n{figures}Opened: {alert.opened_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"Acknowledge or resolve it in the workspace: {link}\n\n"
        f"(This e-mail deliberately contains no message text.)"
    )


def alert_fire(
    *,
    rule: AlertRule,
    subject: str,
    title: str,
    value: float | None = None,
    detail: dict | None = None,
    link: str = "",
) -> tuple[MonitoringAlert, bool]:
    """Open an alert for ``(rule, subject)``, or refresh the one not yet resolved.
    Returns ``(alert, created)``; a new one is audited and e-mailed (when the rule says so)."""
    now = timezone.now()
    fields = {"value": value, "threshold": rule.threshold, "detail": detail or {}, "title": title}
    with transaction.atomic():
        unresolved = (
            MonitoringAlert.objects.select_for_update()
            .filter(rule=rule, subject=subject)
            .exclude(status=MonitoringAlert.Status.RESOLVED)
            .first()
        )
        if unresolved is not None:
            MonitoringAlert.objects.filter(pk=unresolved.pk).update(last_seen_at=now, **fields)
            return unresolved, False
        try:
            with transaction.atomic():
                alert = MonitoringAlert.objects.create(
                    rule=rule, subject=subject, link=link, **fields
                )
        except IntegrityError:  # a concurrent evaluation opened it first
            return (
                MonitoringAlert.objects.filter(rule=rule, subject=subject)
                .exclude(status=MonitoringAlert.Status.RESOLVED)
                .get(),
                False,
            )
        audit_event_record(
            actor=None,
            action="alert.open",
            obj=alert,
            after={"rule": rule.key, "subject": subject, "value": value},
        )
        if rule.email:
            notifications_queue(subject=f"[Ari Review] Alert: {title}", body=_email_body(alert))
    logger.warning("alert opened alert_id=%s rule=%s subject=%s", alert.pk, rule.key, subject)
    return alert, True


def alert_clear(*, rule: AlertRule, subject: str) -> int:
    """The condition cleared: resolve the unresolved alert of ``(rule, subject)``, if any."""
    now = timezone.now()
    resolved = 0
    with transaction.atomic():
        for alert in (
            MonitoringAlert.objects.select_for_update()
            .filter(rule=rule, subject=subject)
            .exclude(status=MonitoringAlert.Status.RESOLVED)
        ):
            alert.status = MonitoringAlert.Status.RESOLVED
            alert.resolved_at = now
            alert.resolution_note = "The condition cleared (resolved by the monitoring job)."
            alert.save(update_fields=["status", "resolved_at", "resolution_note"])
            audit_event_record(
                actor=None, action="alert.auto_resolve", obj=alert, after={"rule": rule.key}
            )
            resolved += 1
    return resolved


def _check_person(user) -> None:
    if not user_has_role(user, CLINICIAN, ADMIN):
        raise ApplicationError("Only clinicians and admins handle alerts.", status_code=403)


def alert_acknowledge(*, alert: MonitoringAlert, user) -> MonitoringAlert:
    """Someone has seen the alert and is on it (it stays until resolved); audited."""
    _check_person(user)
    with transaction.atomic():
        alert = MonitoringAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != MonitoringAlert.Status.OPEN:
            raise ApplicationError(f"This alert is already {alert.get_status_display().lower()}.")
        alert.status = MonitoringAlert.Status.ACKNOWLEDGED
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit_event_record(actor=user, action="alert.acknowledge", obj=alert)
    return alert


def alert_resolve(*, alert: MonitoringAlert, user, note: str = "") -> MonitoringAlert:
    """A person resolves the alert, with an optional note (audited; the note is not logged)."""
    _check_person(user)
    with transaction.atomic():
        alert = MonitoringAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == MonitoringAlert.Status.RESOLVED:
            raise ApplicationError("This alert is already resolved.")
        now = timezone.now()
        if alert.acknowledged_at is None:
            alert.acknowledged_by, alert.acknowledged_at = user, now
        alert.status = MonitoringAlert.Status.RESOLVED
        alert.resolved_by = user
        alert.resolved_at = now
        alert.resolution_note = (note or "").strip()[:2000]
        alert.save()
        audit_event_record(
            actor=user, action="alert.resolve", obj=alert, after={"with_note": bool(note)}
        )
    return alert


# --- The evaluating job ------------------------------------------------------------------------


@dataclass
class EvaluationResult:
    opened: int = 0
    resolved: int = 0

    def add(self, created: bool) -> None:
        self.opened += int(created)

    def as_dict(self) -> dict:
        return {"opened": self.opened, "resolved": self.resolved}


def _subject(metric: str, version: str) -> str:
    return f"{metric}:{version or 'all'}"


def _metric_rules(rules: dict[str, AlertRule], result: EvaluationResult, today: dt.date) -> None:
    for key, metric, above in _METRIC_RULES:
        rule = rules.get(key)
        if rule is None:  # switched off
            continue
        rows = MetricValue.objects.filter(
            name=metric, day=today, rollout_arm="", value__isnull=False
        ).values_list("model_version", "value", "denominator")
        for version, value, count in rows:
            if count < rule.min_samples:
                continue  # too little evidence to fire or to resolve
            subject = _subject(metric, version)
            breach = value > rule.threshold if above else value < rule.threshold
            if breach:
                title, unit = METRICS[metric][0], METRICS[metric][1]
                shown = f"{value * 100:.1f}%" if unit == "%" else f"{value:.0f} {unit}"
                limit = rule.threshold * 100 if unit == "%" else rule.threshold
                result.add(
                    alert_fire(
                        rule=rule,
                        subject=subject,
                        title=f"{title} {shown} ({'above' if above else 'below'} "
                        f"{limit:g}{'%' if unit == '%' else ' ' + unit}), "
                        f"version {version or 'all'}",
                        value=value,
                        detail={"metric": metric, "version": version, "day": today.isoformat()},
                        link=reverse("evaluation:dashboards"),
                    )[1]
                )
            else:
                result.resolved += alert_clear(rule=rule, subject=subject)


def _live_fn_rule(rule: AlertRule, result: EvaluationResult) -> None:
    latest = (
        MetricValue.objects.filter(name=LIVE_FN_UPPER, rollout_arm="")
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if latest is None:
        return
    for version, upper, count in MetricValue.objects.filter(
        name=LIVE_FN_UPPER, day=latest, rollout_arm="", value__isnull=False
    ).values_list("model_version", "value", "denominator"):
        if count < rule.min_samples:
            continue
        subject = _subject(LIVE_FN_RATE, version)
        if upper > rule.threshold:
            result.add(
                alert_fire(
                    rule=rule,
                    subject=subject,
                    title=f"Live missed-crisis rate up to {upper * 100:.1f}% (above "
                    f"{rule.threshold * 100:g}%), week of {latest}, version {version or 'all'}",
                    value=upper,
                    detail={"week": latest.isoformat(), "version": version, "labelled": count},
                    link=reverse("evaluation:dashboards"),
                )[1]
            )
        else:
            result.resolved += alert_clear(rule=rule, subject=subject)


def _acknowledged() -> Q:
    """Someone read the escalation's in-app alert, or opened its session in the workspace
    after it was opened (the review page records each view as ``transcript.view``)."""
    read = ClinicianAlert.objects.filter(escalation=OuterRef("pk"), read_at__isnull=False)
    viewed = AuditEvent.objects.filter(
        action__in=("transcript.view", "transcript.reveal"),
        object_type="conversations.chatsession",
        object_id=Cast(OuterRef("session_id"), CharField()),
        created_at__gte=OuterRef("created_at"),
    )
    return Q(Exists(read)) | Q(Exists(viewed))


def _escalation_rule(rule: AlertRule, result: EvaluationResult, now: dt.datetime) -> None:
    cutoff = now - dt.timedelta(minutes=rule.threshold)
    late = Escalation.objects.filter(status=Escalation.Status.OPEN, created_at__lte=cutoff).exclude(
        _acknowledged()
    )
    late_ids = set()
    for escalation_id, session_id, created_at in late.values_list("pk", "session_id", "created_at")[
        :500
    ]:
        late_ids.add(escalation_id)
        minutes = (now - created_at).total_seconds() / 60
        result.add(
            alert_fire(
                rule=rule,
                subject=f"escalation:{escalation_id}",
                title=f"Escalation #{escalation_id} not acknowledged after {minutes:.0f} minutes",
                value=round(minutes, 1),
                detail={"escalation_id": escalation_id, "session_id": session_id},
                link=reverse("evaluation:review-queue"),
            )[1]
        )
    unresolved = (
        MonitoringAlert.objects.filter(rule=rule)
        .exclude(status=MonitoringAlert.Status.RESOLVED)
        .values_list("subject", flat=True)
    )
    for subject in unresolved:
        escalation_id = int(subject.split(":", 1)[1])
        if escalation_id not in late_ids:
            result.resolved += alert_clear(rule=rule, subject=subject)


def _backlog_rule(rule: AlertRule, result: EvaluationResult) -> None:
    waiting = WorkItem.objects.filter(
        kind=WorkItem.Kind.REVIEW, status=WorkItem.Status.OPEN
    ).count()
    if waiting > rule.threshold:
        result.add(
            alert_fire(
                rule=rule,
                subject="review",
                title=f"Review backlog: {waiting} sessions waiting (limit {rule.threshold:g})",
                value=float(waiting),
                link=reverse("evaluation:review-queue"),
            )[1]
        )
    else:
        result.resolved += alert_clear(rule=rule, subject="review")


def alerts_evaluate(*, now: dt.datetime | None = None) -> dict:
    """Beat: evaluate every enabled rule on the precomputed metrics and the live state.
    Returns ``{"opened": n, "resolved": m}``."""
    now = now or timezone.now()
    rules = alert_rules_ensure()
    enabled = {key: rule for key, rule in rules.items() if rule.enabled}
    result = EvaluationResult()
    today = timezone.localdate(now)
    _metric_rules(enabled, result, today)
    if "live_fn_upper_high" in enabled:
        _live_fn_rule(enabled["live_fn_upper_high"], result)
    if "escalation_unacknowledged" in enabled:
        _escalation_rule(enabled["escalation_unacknowledged"], result, now)
    if "review_backlog_high" in enabled:
        _backlog_rule(enabled["review_backlog_high"], result)
    logger.info("alerts evaluated opened=%s resolved=%s", result.opened, result.resolved)
    return result.as_dict()
