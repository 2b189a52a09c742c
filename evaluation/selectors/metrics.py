"""Computed metric values and their series for the dashboards."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from evaluation.metrics_catalogue import LIVE_FN_NAMES, METRIC_ORDER
from evaluation.models import (
    MetricValue,
)


def metric_values_list(*, days: int = 30, name: str = ""):
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    qs = MetricValue.objects.filter(day__gte=since)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("name", "model_version", "rollout_arm", "day")


def metric_filter_choices(*, since: dt.date) -> dict[str, list[str]]:
    """The model versions and arms with rows since ``since`` (the dashboard's filters)."""
    rows = MetricValue.objects.filter(day__gte=since)
    versions = rows.exclude(model_version="").values_list("model_version", flat=True)
    arms = rows.exclude(rollout_arm="").values_list("rollout_arm", flat=True)
    return {
        "versions": sorted(set(versions.distinct())),
        "arms": sorted(set(arms.distinct())),
    }


def _label(version: str, arm: str) -> str:
    if not (version or arm):
        return "all"
    return f"version {version}" if version else f"arm {arm}"


def metric_series(
    *,
    days: int = 30,
    since: dt.date | None = None,
    until: dt.date | None = None,
    version: str = "",
    arm: str = "",
) -> dict[str, dict[str, list[tuple[dt.date, float | None]]]]:
    """{metric: {series label: [(day, value)]}}: "all", each model version and each arm, from
    ``since`` (default ``days`` back) to ``until`` (default today). ``version`` / ``arm`` keep
    "all" and that version's (arm's) series only."""
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=days - 1)
    rows = MetricValue.objects.filter(day__gte=since, day__lte=until, name__in=METRIC_ORDER)
    if version:
        rows = rows.filter(model_version__in=["", version], rollout_arm="")
    if arm:
        rows = rows.filter(rollout_arm__in=["", arm], model_version="")
    series: dict[str, dict[str, list]] = {name: defaultdict(list) for name in METRIC_ORDER}
    for name, row_version, row_arm, day, value in rows.order_by(
        "name", "model_version", "rollout_arm", "day"
    ).values_list("name", "model_version", "rollout_arm", "day", "value"):
        series[name][_label(row_version, row_arm)].append((day, value))
    return {name: dict(s) for name, s in series.items()}


def live_fn_series(
    *, since: dt.date, until: dt.date, version: str = ""
) -> dict[str, list[tuple[dt.date, float | None, float | None, float | None, float]]]:
    """The live false-negative estimate per safety version ("" = all), by sample week:
    ``{label: [(week, rate, lower, upper, labelled)]}``."""
    rows = MetricValue.objects.filter(
        name__in=LIVE_FN_NAMES, day__gte=since - dt.timedelta(days=6), day__lte=until
    )
    if version:
        rows = rows.filter(model_version__in=["", version])
    points: dict[tuple[str, dt.date], dict] = defaultdict(dict)
    for name, row_version, day, value, denominator in rows.values_list(
        "name", "model_version", "day", "value", "denominator"
    ):
        point = points[(row_version, day)]
        point[name] = value
        point["n"] = denominator
    series: dict[str, list] = defaultdict(list)
    for (row_version, day), point in sorted(points.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        series["all" if not row_version else f"version {row_version}"].append(
            (
                day,
                point.get("live_fn_rate"),
                point.get("live_fn_lower"),
                point.get("live_fn_upper"),
                point.get("n", 0),
            )
        )
    return dict(series)
