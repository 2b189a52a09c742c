"""The live false-negative estimate: how many crises does the safety model miss in live traffic?

Each week (beat, :func:`live_fn_sample_draw`) a uniform random sample of the past week's
sessions that the model scored none or low on every turn goes to the safety labelling queue
*blinded*: the item carries no model score, level or version (``WorkItem.Reason.FN_SAMPLE``,
one item per session: its last user message, read with the turns before it). Clinicians label
it like any other item. From their labels (an item counts once labelled; its level is the
highest any clinician gave), :func:`live_fn_estimate_compute` writes per sample week (its Monday)
and per safety model version the missed-crisis rate ``sessions labelled high / sessions
labelled`` with its 95% Clopper-Pearson interval (``MetricValue`` rows ``live_fn_rate``,
``live_fn_lower``, ``live_fn_upper``; numerator and denominator on each).

A miss (a label of high on a sample) opens an alert at once (:func:`live_fn_miss_record`,
called by the label), which links to the item: there the clinician can add the message to the
exemplar bank. The label itself is a gold safety label of a production user message, so the
next training run reads it with its context (``training_jobs.selectors.database_label_rows``).

Sessions whose last user message already waits in the safety queue (the uncertainty queue got it
first) are left out of the draw: one item per message. Documented in docs/monitoring.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from conversations.models import ChatSession, Message, RiskLevel
from evaluation.estimates import clopper_pearson
from evaluation.metrics_catalogue import LIVE_FN_LOWER, LIVE_FN_RATE, LIVE_FN_UPPER
from evaluation.models import MetricValue, SafetyLabel, WorkItem
from evaluation.services.alerts import alert_fire, alert_rules_ensure
from evaluation.services.queues.work import label_reviews_required
from training_jobs.ml.labels import max_level

logger = logging.getLogger(__name__)

SCORED_LOW = (RiskLevel.NONE, RiskLevel.LOW)
# Blinded samples come before the uncertainty queue's items (lower priority comes first) so a
# week's sample is labelled within the week.
FN_PRIORITY = 0.05


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def live_fn_sample_draw(
    *, size: int | None = None, days: int = 7, now: dt.datetime | None = None, seed=None
) -> int:
    """Queue a blinded uniform random sample of ``size`` (default
    ``EVALUATION_LIVE_FN_SAMPLE_SIZE``) sessions of the last ``days`` days scored none/low on
    every turn. Returns how many items were queued."""
    size = settings.EVALUATION_LIVE_FN_SAMPLE_SIZE if size is None else size
    now = now or timezone.now()
    if size <= 0:
        return 0
    last_user = Message.objects.filter(
        session=OuterRef("pk"), role=Message.Role.USER, risk_level__in=SCORED_LOW
    ).order_by("-id")
    queued_message = WorkItem.objects.filter(kind=WorkItem.Kind.SAFETY, message=OuterRef("last"))
    queued_session = WorkItem.objects.filter(kind=WorkItem.Kind.SAFETY, session=OuterRef("pk"))
    population = list(
        ChatSession.objects.filter(
            created_at__gte=now - dt.timedelta(days=days),
            created_at__lt=now,
            max_risk_level__in=SCORED_LOW,
        )
        .annotate(last=Subquery(last_user.values("pk")[:1]))
        .filter(last__isnull=False)
        .exclude(Exists(queued_session))
        .exclude(Exists(queued_message))
        .values_list("pk", "last")
    )
    chosen = random.Random(seed).sample(population, min(size, len(population)))  # noqa: S311
    items = [
        WorkItem(
            kind=WorkItem.Kind.SAFETY,
            reason=WorkItem.Reason.FN_SAMPLE,
            priority=FN_PRIORITY,
            required_reviews=label_reviews_required(key=f"fn{session_id}"),
            session_id=session_id,
            message_id=message_id,
            text_role="user",
            suggestion={},  # blinded: the model's score never reaches the labeller
            source="production",
        )
        for session_id, message_id in chosen
    ]
    WorkItem.objects.bulk_create(items, ignore_conflicts=True)
    logger.info("live fn sample drawn population=%s queued=%s", len(population), len(items))
    return len(items)


def _safety_version(own: dict | None, reply: dict | None) -> str:
    for versions in (own, reply):
        if isinstance(versions, dict) and versions.get("safety"):
            return str(versions["safety"])[:100]
    return "unknown"


@transaction.atomic
def live_fn_estimate_compute() -> int:
    """(Re)write the estimate of every sample week from the labels so far. Returns the rows."""
    levels: dict[int, list[str]] = defaultdict(list)
    for item_id, level in SafetyLabel.objects.filter(
        item__kind=WorkItem.Kind.SAFETY, item__reason=WorkItem.Reason.FN_SAMPLE
    ).values_list("item_id", "risk_level"):
        levels[item_id].append(level)
    counts: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    items = WorkItem.objects.filter(pk__in=list(levels)).values_list(
        "pk", "created_at", "message__model_versions", "message__reply__model_versions"
    )
    for item_id, created_at, own, reply in items:
        week = _week_start(timezone.localdate(created_at))
        missed = int(max_level(*levels[item_id]) == RiskLevel.HIGH)
        for version in ("", _safety_version(own, reply)):
            counts[(week, version)][0] += missed
            counts[(week, version)][1] += 1
    rows = []
    for (week, version), (misses, labelled) in counts.items():
        estimate = clopper_pearson(misses, labelled)
        for name, value in (
            (LIVE_FN_RATE, estimate.rate),
            (LIVE_FN_LOWER, estimate.lower),
            (LIVE_FN_UPPER, estimate.upper),
        ):
            rows.append(
                MetricValue(
                    name=name,
                    day=week,
                    model_version=version,
                    rollout_arm="",
                    value=value,
                    numerator=misses,
                    denominator=labelled,
                )
            )
    MetricValue.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["name", "day", "model_version", "rollout_arm"],
        update_fields=["value", "numerator", "denominator", "computed_at"],
    )
    return len(rows)


def live_fn_miss_record(*, item: WorkItem, risk_level: str) -> None:
    """A label on a blinded sample: a high one is a missed crisis, which opens an alert now
    (inside the label's transaction). Labels of other levels do nothing here."""
    if item.reason != WorkItem.Reason.FN_SAMPLE or risk_level != RiskLevel.HIGH:
        return
    rule = alert_rules_ensure()["live_fn_miss"]
    if not rule.enabled:
        return
    alert_fire(
        rule=rule,
        subject=f"item:{item.pk}",
        title=f"Missed crisis in the blinded sample: item {item.pk} (session "
        f"#{item.session_id}) labelled high, scored none/low by the model",
        detail={"item_id": item.pk, "session_id": item.session_id},
        link=reverse("evaluation:safety-item", args=[item.pk]),
    )
