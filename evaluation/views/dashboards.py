"""The metric dashboards (Plotly) and the Plotly script they load."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View

from ari_review.headers import inline_styles_allowed
from ari_review.mixins import ClinicianRequired
from evaluation.metrics_catalogue import METRICS
from evaluation.selectors.metrics import metric_series


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
    }


@method_decorator(inline_styles_allowed, name="dispatch")  # plotly.js adds <style> elements
class DashboardPage(ClinicianRequired, View):
    def get(self, request):
        try:
            days = max(7, min(180, int(request.GET.get("days", 30))))
        except ValueError:
            days = 30
        series = metric_series(days=days)
        charts = [_figure(name, series.get(name, {})) for name in METRICS]
        return render(
            request,
            "evaluation/dashboards.html",
            {
                "charts": charts,
                "days": days,
                "figures_json": [(f"{c['id']}-data", c["figure"]) for c in charts],
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
