"""The dataset browser: Ari's turns and imported texts with their care level, risk and intent,
filtered, searched, masked, keyset-paginated, each linked to its labelling view; one
conversation (or one imported turn with its context) read turn by turn."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import render
from django.views import View

from ari_review.audit import audit_event_record
from ari_review.mixins import ClinicianRequired
from conversations.models import CareLevel, Intent, RiskLevel
from evaluation.selectors.datasets import (
    ARI,
    DatasetFilters,
    dataset_item_turns,
    dataset_page,
    dataset_session_turns,
    dataset_sources,
)


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
        care = q.get("care", "")
        if care and care not in CareLevel.values:
            errors.append("Unknown care level.")
            care = ""
        if care and source != ARI:
            errors.append(
                "Care levels are recorded on Ari's turns; imported texts have none "
                "(a KakoVerse comparison shows the care level of each reply)."
            )
            care = ""
        filters = DatasetFilters(
            source=source,
            risk=risk,
            intent=intent,
            care=care,
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
                "cares": CareLevel.choices,
                "errors": errors,
                "base_query": base,
            },
        )


class DatasetConversationPage(ClinicianRequired, View):
    """One of Ari's conversations turn by turn (``session_id``), or one imported turn with the
    conversation before it (``item_id``): masked, with care level, risk, intent and labels."""

    def get(self, request, session_id: int | None = None, item_id: int | None = None):
        context: list[dict[str, str]] = []
        if session_id is not None:
            rows = dataset_session_turns(session_id=session_id)
            if not rows:
                raise Http404("No such conversation.")
            object_type, object_id, source = "chat_session", session_id, ARI
        else:
            found = dataset_item_turns(item_id=item_id or 0)
            if found is None:
                raise Http404("No such imported text.")
            context, row = found
            rows = [row]
            object_type, object_id, source = "work_item", item_id or 0, row.source
        audit_event_record(
            actor=request.user,
            action="dataset.view",
            object_type=object_type,
            object_id=str(object_id),
            after={"ids": [row.id for row in rows][:50]},
        )
        return render(
            request,
            "evaluation/dataset_conversation.html",
            {"rows": rows, "context": context, "source": source, "session_id": session_id},
        )
