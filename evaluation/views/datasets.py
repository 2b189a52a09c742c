"""The dataset browser: Ari's turns and imported texts with their risk and intent, filtered,
searched, masked, keyset-paginated, each linked to its labelling view."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.views import View

from ari_review.audit import audit_event_record
from ari_review.mixins import ClinicianRequired
from conversations.models import Intent, RiskLevel
from evaluation.selectors.datasets import ARI, DatasetFilters, dataset_page, dataset_sources


def _date(raw: str, name: str, errors: list[str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{name} must be a date like 2026-12-07.")
        return None


def _id(raw: str, name: str, errors: list[str]) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        errors.append(f"{name} must be a whole number.")
        return None
    return int(raw)


class DatasetBrowserPage(ClinicianRequired, View):
    def get(self, request):
        q = request.GET
        errors: list[str] = []
        sources = dataset_sources()
        source = q.get("source", ARI)
        if source not in sources:
            errors.append(f"Unknown source; choose one of: {', '.join(sources)}.")
            source = ARI
        risk = q.get("risk", "")
        if risk and risk not in RiskLevel.values:
            errors.append("Unknown risk level.")
            risk = ""
        intent = q.get("intent", "")
        if intent and intent not in Intent.values:
            errors.append("Unknown intent.")
            intent = ""
        filters = DatasetFilters(
            source=source,
            risk=risk,
            intent=intent,
            since=_date(q.get("since", ""), "From", errors),
            until=_date(q.get("until", ""), "To", errors),
            search=q.get("q", "").strip()[:100],
        )
        after = _id(q.get("after", ""), "after", errors)
        before = _id(q.get("before", ""), "before", errors)
        page = dataset_page(filters, after=after, before=before)
        if page.rows:
            # Masked texts, but a clinician reading conversations is recorded like a transcript.
            audit_event_record(
                actor=request.user,
                action="dataset.view",
                object_type="dataset",
                object_id=source,
                after={"ids": [row.id for row in page.rows][:50], "search": bool(filters.search)},
            )
        base = {k: v for k, v in q.items() if k not in ("after", "before") and v}
        return render(
            request,
            "evaluation/datasets.html",
            {
                "page": page,
                "filters": filters,
                "sources": sources,
                "risks": RiskLevel.choices,
                "intents": Intent.choices,
                "errors": errors,
                "base_query": base,
            },
        )
