"""``labels/<kind>/export/``: the queue page's export buttons (CSV or JSONL, with the page's
filters: where the items come from, labelled since a date). Each export is audited (who, which
filters, how many rows), like the admin's export actions and the commands."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.audit import export_audit_record
from ari_review.mixins import ClinicianRequired
from evaluation import exports
from evaluation.models import WorkItem

EXPORT_FORMATS = ("csv", "jsonl")
LABEL_EXPORT_KINDS = (WorkItem.Kind.SAFETY, WorkItem.Kind.INTENT)


def label_export_filters_clean(*, source: str = "", since: str = "") -> dict:
    """The filters as stored in the audit event; a malformed one is refused by name."""
    filters = {}
    source = (source or "").strip()
    if source:
        if len(source) > 40:
            raise ApplicationError("source: at most 40 characters.")
        filters["source"] = source
    since = (since or "").strip()
    if since:
        try:
            filters["since"] = dt.date.fromisoformat(since).isoformat()
        except ValueError as exc:
            raise ApplicationError("since: a date as YYYY-MM-DD.") from exc
    return filters


def label_export_run(*, actor, kind: str, format: str, filters: dict) -> tuple[str, int]:
    """The export's text and its row count, audited as ``export.<kind>_labels``."""
    if kind not in LABEL_EXPORT_KINDS:
        raise ApplicationError(f"kind must be one of: {', '.join(LABEL_EXPORT_KINDS)}.")
    if format not in EXPORT_FORMATS:
        raise ApplicationError(f"format must be one of: {', '.join(EXPORT_FORMATS)}.")
    items = WorkItem.objects.filter(kind=kind)
    if "source" in filters:
        items = items.filter(source=filters["source"])
    if "since" in filters:  # items labelled on or after the date
        related = "safety_labels" if kind == WorkItem.Kind.SAFETY else "intent_labels"
        items = items.filter(**{f"{related}__created_at__date__gte": filters["since"]}).distinct()
    out = io.StringIO(newline="" if format == "csv" else None)
    if format == "csv":
        rows = exports.labels_export_csv(out, kind=kind, queryset=items)
    else:
        rows = exports.labels_export_jsonl(out, kind=kind, queryset=items)
    export_audit_record(
        actor=actor,
        export=f"{kind}_labels",
        format=format,
        rows=rows,
        filters=filters,
        via="workspace",
    )
    return out.getvalue(), rows


_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_QUEUE_URLS = {"safety": "evaluation:safety-labelling", "intent": "evaluation:intent-labelling"}


class LabelExportPage(ClinicianRequired, View):
    def get(self, request, kind: str):
        if kind not in LABEL_EXPORT_KINDS:
            raise Http404("No such export.")
        format = request.GET.get("format", "")
        try:
            filters = label_export_filters_clean(
                source=request.GET.get("source", ""), since=request.GET.get("since", "")
            )
            body, _ = label_export_run(
                actor=request.user, kind=kind, format=format, filters=filters
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_QUEUE_URLS[kind])
        response = HttpResponse(body, content_type=_CONTENT_TYPES[format])
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{kind}-labels-{stamp}.{format}"'
        return response
