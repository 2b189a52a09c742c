"""Computed metric values and their series for the dashboards."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import QuerySet
from django.utils import timezone

from evaluation.metrics_catalogue import METRIC_ORDER
from evaluation.models import (
    MetricValue,
)


def metric_values_list(*, days: int = 30, name: str = "") -> QuerySet[MetricValue]:
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    qs = MetricValue.objects.filter(day__gte=since)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("name", "model_version", "rollout_arm", "day")


def metric_series(*, days: int = 30) -> dict[str, dict[str, list[tuple[dt.date, float | None]]]]:
    """{metric: {series label: [(day, value)]}}: "all", each model version and each arm."""
    series: dict[str, dict[str, list[tuple[dt.date, float | None]]]] = {
        name: defaultdict(list) for name in METRIC_ORDER
    }
    for name, version, arm, day, value in metric_values_list(days=days).values_list(
        "name", "model_version", "rollout_arm", "day", "value"
    ):
        if name not in series:
            continue
        label = (
            "all" if not (version or arm) else (f"version {version}" if version else f"arm {arm}")
        )
        series[name][label].append((day, value))
    return {name: dict(s) for name, s in series.items()}
