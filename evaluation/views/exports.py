"""``labels/<kind>/export/``: the queue page's export buttons (CSV or JSONL, with the page's
filters), audited by ``evaluation.services.label_exports``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from evaluation.services.label_exports import (
    LABEL_EXPORT_KINDS,
    label_export_filters_clean,
    label_export_run,
)

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
