"""Agreement between clinicians and adjudication of their disagreements."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.audit import labels_view_record
from ari_review.mixins import ClinicianRequired
from evaluation.label_sets import LABEL_SETS
from evaluation.selectors.agreement import adjudications_list, agreement_summary, disagreements_list
from evaluation.selectors.queue import work_item_get
from evaluation.services import (
    adjudication_create,
    user_is_senior,
)


class AgreementPage(ClinicianRequired, View):
    def get(self, request):
        key = request.GET.get("label_set", "review.appropriateness")
        if key not in LABEL_SETS:
            key = "review.appropriateness"
        current = agreement_summary(label_set=key)
        return render(
            request,
            "evaluation/agreement.html",
            {
                "label_sets": LABEL_SETS.values(),
                "current": current,
                "computed_at": parse_datetime(current["computed_at"]),
                "key": key,
            },
        )


class AdjudicationPage(ClinicianRequired, View):
    def get(self, request):
        key = request.GET.get("label_set") or None
        if key and key not in LABEL_SETS:
            key = None
        rows = disagreements_list(label_set=key)
        if rows:
            labels_view_record(
                actor=request.user, item_ids=[row.item.pk for row in rows], via="page:adjudication"
            )
        return render(
            request,
            "evaluation/adjudication.html",
            {
                "rows": rows,
                "decided": adjudications_list(limit=20),
                "label_sets": LABEL_SETS.values(),
                "key": key or "",
                "senior": user_is_senior(request.user),
            },
        )

    def post(self, request):
        item = work_item_get(item_id=int(request.POST.get("item_id", 0) or 0))
        if item is None:
            raise Http404
        back = f"{reverse('evaluation:adjudication')}?label_set={request.POST.get('label_set', '')}"
        if "value" not in request.POST:  # nothing is pre-selected: a decision is always chosen
            messages.error(request, "Choose the final value first.")
            return redirect(back)
        try:
            adjudication_create(
                item=item,
                label_set=request.POST.get("label_set", ""),
                value=request.POST.get("value", ""),
                decided_by=request.user,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, "Decision saved.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(back)
