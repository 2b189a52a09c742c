"""A clinician's own labels: undo the last one (key u on the label pages) and edit any of them
(``labels/<kind>/mine/``); ``evaluation.services.label_changes`` audits both."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from ari_review.privacy.masking import mask_text
from conversations.models import Intent, RiskCategory, RiskLevel
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import Urgency
from evaluation.services.label_changes import FIELDS, label_undo_last, label_update
from evaluation.views.common import QUEUES

CHOICES = {
    "risk_level": RiskLevel.choices,
    "category": RiskCategory.choices,
    "urgency": Urgency.choices,
    "intent": Intent.choices,
}


def _kind(kind: str) -> str:
    if kind not in FIELDS:
        raise Http404("No such label kind.")
    return kind


class LabelUndoPage(ClinicianRequired, View):
    def post(self, request, kind: str):
        kind = _kind(kind)
        try:
            item = label_undo_last(clinician=request.user, kind=kind)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(QUEUES[kind]["queue_url"])
        messages.success(request, f"Your last label was undone: label item {item.pk} again.")
        return redirect(QUEUES[kind]["item_url"], item.pk)


class MyLabelsPage(ClinicianRequired, View):
    template = "evaluation/my_labels.html"

    def get(self, request, kind: str):
        kind = _kind(kind)
        labels = (
            LABEL_MODEL_BY_KIND[kind]
            .objects.filter(clinician=request.user)
            .select_related("item", "item__message")
            .order_by("-created_at", "-id")[:50]
        )
        rows = [
            {
                "label": label,
                "text": mask_text(
                    label.item.message.text if label.item.message is not None else label.item.text
                ),
                "fields": [(name, CHOICES[name], getattr(label, name)) for name in FIELDS[kind]],
            }
            for label in labels
        ]
        return render(
            request,
            self.template,
            {"kind": kind, "queue": QUEUES[kind], "rows": rows},
        )

    def post(self, request, kind: str):
        kind = _kind(kind)
        try:
            label_update(
                clinician=request.user,
                kind=kind,
                label_id=int(request.POST.get("label_id", "0") or 0),
                values={name: request.POST.get(name, "") for name in FIELDS[kind]},
            )
        except (ApplicationError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "No such label of yours."))
        else:
            messages.success(request, "Label changed (the change is kept in the audit log).")
        return redirect("evaluation:my-labels", kind)
