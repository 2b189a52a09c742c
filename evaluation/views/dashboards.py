"""The metric dashboards (Plotly) and the Plotly script they load."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views import View

from ari_review.headers import inline_styles_allowed
from ari_review.mixins import ClinicianRequired
from evaluation.metrics_catalogue import METRICS
from evaluation.selectors.metrics import live_fn_series, metric_filter_choices, metric_series


def _figure(name: str, series: dict) -> dict:
    title, unit, target_text, target, _ = METRICS[name]
    scale = 100.0 if unit == "%" else 1.0
    data = []
    for label, points in sorted(series.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": [day.isoformat() for day, _ in points],
                "y": [None if v is None else round(v * scale, 3) for _, v in points],
                "visible": True if label == "all" or label.startswith("version") else "legendonly",
            }
        )
    shapes = []
    if target is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": target * scale,
                "y1": target * scale,
                "line": {"dash": "dot", "color": "#a4262c"},
            }
        )
    layout = {
        "title": {"text": f"{title} ({unit})"},
        "height": 300,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "shapes": shapes,
        "legend": {"orientation": "h"},
        "xaxis": {"type": "date"},
    }
    if not any(trace["x"] for trace in data):
        layout.update(
            shapes=[],
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": "No data yet",
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 16},
                }
            ],
        )
    return {
        "id": f"chart-{name}",
        "title": title,
        "target": target_text,
        "figure": {"data": data, "layout": layout},
        "latest": next(
            (
                points[-1][1] * scale if points[-1][1] is not None else None
                for label, points in series.items()
                if label == "all" and points
            ),
            None,
        ),
        "unit": unit,
        "table": _table(series, scale),
    }


def _cell(value: float | None) -> str:
    """A table cell's text: the number as the template printed it, or a dash."""
    return "–" if value is None else str(float(value))


def _table(series: dict, scale: float) -> dict:
    """The chart as a table (screen readers, copying): a row per day, a column per series.
    Each row's cells leave as one piece of HTML (a ``<td>`` per value, "–" for none), as the
    template wrote them: rendering ~2,000 cells one by one (a filter and localisation each) took
    most of the 30-day page's time."""
    labels = sorted(series, key=lambda label: (label != "all", label))
    by_day: dict = {}
    for column, label in enumerate(labels):
        for day, value in series[label]:
            row = by_day.setdefault(day, [None] * len(labels))
            row[column] = None if value is None else round(value * scale, 3)
    # Numbers and a dash only (no text from anywhere), so the joined cells need no escaping.
    rows = [
        (day.isoformat(), mark_safe("".join(f"<td>{_cell(v)}</td>" for v in values)))  # noqa: S308
        for day, values in sorted(by_day.items(), reverse=True)
    ]
    return {"columns": labels, "rows": rows}


def _live_fn_figure(series: dict) -> dict:
    """The live missed-crisis rate per sample week with its 95% interval (error bars)."""
    data = []
    rows: dict = {}
    for label, points in sorted(series.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        rates = [None if p[1] is None else round(p[1] * 100, 3) for p in points]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": [p[0].isoformat() for p in points],
                "y": rates,
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if p[3] is None or p[1] is None else round((p[3] - p[1]) * 100, 3)
                        for p in points
                    ],
                    "arrayminus": [
                        None if p[2] is None or p[1] is None else round((p[1] - p[2]) * 100, 3)
                        for p in points
                    ],
                },
                "visible": True if label == "all" else "legendonly",
            }
        )
        for week, rate, lower, upper, labelled in points:
            rows.setdefault(week, []).append(
                {
                    "series": label,
                    "rate": None if rate is None else round(rate * 100, 2),
                    "lower": None if lower is None else round(lower * 100, 2),
                    "upper": None if upper is None else round(upper * 100, 2),
                    "labelled": int(labelled),
                }
            )
    layout = {
        "title": {"text": "Live missed-crisis rate (%), 95% interval"},
        "height": 300,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "legend": {"orientation": "h"},
        "xaxis": {"type": "date", "title": {"text": "sample week"}},
        "yaxis": {"rangemode": "tozero"},
    }
    return {
        "id": "chart-live_fn_rate",
        "figure": {"data": data, "layout": layout},
        "rows": sorted(rows.items(), reverse=True),
    }


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@method_decorator(inline_styles_allowed, name="dispatch")  # plotly.js adds <style> elements
class DashboardPage(ClinicianRequired, View):
    """Precomputed rows only (the metrics job writes them); filters: a period (``days``) or a
    date range (``since``/``until``), one model ``version`` or one rollout ``arm``."""

    def get(self, request):
        try:
            days = max(7, min(180, int(request.GET.get("days", 30))))
        except ValueError:
            days = 30
        until = _day(request.GET.get("until")) or timezone.localdate()
        since = _day(request.GET.get("since")) or until - dt.timedelta(days=days - 1)
        if since > until:
            since, until = until, since
        choices = metric_filter_choices(since=since)
        version = request.GET.get("version", "")
        version = version if version in choices["versions"] else ""
        arm = request.GET.get("arm", "")
        arm = arm if arm in choices["arms"] and not version else ""
        series = metric_series(since=since, until=until, version=version, arm=arm)
        charts = [_figure(name, series.get(name, {})) for name in METRICS]
        live_fn = _live_fn_figure(live_fn_series(since=since, until=until, version=version))
        figures = [(f"{c['id']}-data", c["figure"]) for c in charts]
        figures.append((f"{live_fn['id']}-data", live_fn["figure"]))
        return render(
            request,
            "evaluation/dashboards.html",
            {
                "charts": charts,
                "live_fn": live_fn,
                "days": days,
                "since": since,
                "until": until,
                "version": version,
                "arm": arm,
                "choices": choices,
                "figures_json": figures,
            },
        )


class PlotlyJs(ClinicianRequired, View):
    """plotly.js from the installed ``plotly`` package (no CDN: works offline)."""

    @cached_property
    def path(self) -> Path:
        import plotly

        return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

    def get(self, request):
        if not self.path.exists():
            raise Http404("plotly.js is not installed.")
        response = FileResponse(self.path.open("rb"), content_type="application/javascript")
        response["Cache-Control"] = "private, max-age=86400"
        return response
