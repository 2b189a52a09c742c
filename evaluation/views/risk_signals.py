"""The safety screen's clinician-editable parts: the risk-signal page (the shipped signal file,
read-only, and the signals clinicians add) and adding a labelled message to the exemplar bank.

A new signal is validated like an entry of ``risk_signals.yaml``, applies at once without
retraining and is audited (``conversations.services.risk_signals``); so is a new exemplar
(``conversations.services.exemplars``).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from conversations.backends.safety_rules import RULES, RULESET_VERSION, SIGNALS_FILE
from conversations.models import RiskCategory, RiskSignal
from conversations.services.exemplars import exemplar_add_from_message
from conversations.services.risk_signals import risk_signal_create, risk_signal_deactivate
from evaluation.models import WorkItem
from training_jobs.ml.labels import FAMILIES, LANGS, RISK_LEVELS


def exemplar_choices() -> dict:
    """What the "add to the exemplar bank" form on a safety item offers."""
    levels = tuple(reversed(RISK_LEVELS))
    return {
        "exemplar_levels": levels,
        "exemplar_families": [(level, sorted(FAMILIES[level])) for level in levels],
        "exemplar_langs": LANGS,
    }


class ExemplarAddPage(ClinicianRequired, View):
    """One action: the safety item's user message becomes an exemplar (masked, audited)."""

    def post(self, request, item_id: int):
        item = get_object_or_404(
            WorkItem.objects.select_related("message"), pk=item_id, kind=WorkItem.Kind.SAFETY
        )
        target = redirect("evaluation:safety-item", item.pk)
        if item.message is None:
            messages.error(request, "Only a message from a chat can join the exemplar bank.")
            return target
        try:
            exemplar = exemplar_add_from_message(
                user=request.user,
                message=item.message,
                risk_level=request.POST.get("risk_level", ""),
                family=request.POST.get("family", ""),
                lang=request.POST.get("lang", "en"),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return target
        messages.success(request, f"Added to the exemplar bank as {exemplar}.")
        return target


def parse_phrase_groups(text: str) -> list[list[str]]:
    """One group per line, phrases separated by ";" (empty lines ignored)."""
    groups = []
    for line in (text or "").splitlines():
        phrases = [p.strip() for p in line.split(";") if p.strip()]
        if phrases:
            groups.append(phrases)
    return groups


class RiskSignalPage(ClinicianRequired, View):
    template = "evaluation/risk_signals.html"

    def _render(self, request, *, posted=None, status=200):
        return render(
            request,
            self.template,
            {
                "file_rules": RULES,
                "file_version": RULESET_VERSION,
                "file_name": SIGNALS_FILE.name,
                "signals": RiskSignal.objects.select_related("created_by"),
                "categories": [c for c in RiskCategory.values if c],
                "langs": LANGS,
                "posted": posted or {},
            },
            status=status,
        )

    def get(self, request):
        return self._render(request)

    def post(self, request):
        if request.POST.get("deactivate"):
            signal = get_object_or_404(RiskSignal, pk=request.POST["deactivate"], is_active=True)
            risk_signal_deactivate(user=request.user, signal=signal)
            messages.success(request, f"Signal {signal.entry_id} deactivated.")
            return redirect("evaluation:risk-signals")
        try:
            window = int(request.POST.get("window") or 10)
        except ValueError:
            window = 0  # reported below as "'window' must be a positive number of words"
        try:
            signal = risk_signal_create(
                user=request.user,
                entry_id=request.POST.get("entry_id", ""),
                level=request.POST.get("level", ""),
                category=request.POST.get("category", ""),
                langs=request.POST.getlist("langs"),
                phrases=parse_phrase_groups(request.POST.get("phrases", "")),
                window=window,
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self._render(request, posted=request.POST, status=400)
        messages.success(request, f"Signal {signal.entry_id} is active now.")
        return redirect("evaluation:risk-signals")
