"""The releases pages (admins): list, one release (timeline, traffic and metrics per arm in
Plotly with the targets drawn, the checklist), and the confirmation pages of promote and roll
back, which show the candidate beside the incumbent."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.headers import inline_styles_allowed
from ari_review.mixins import AdminRequired
from conversations.backends.generation import BACKENDS as GENERATION_BACKENDS
from conversations.models import Release, ReleaseStage
from conversations.rollout import CANARY, CONTROL
from training_jobs.models import ModelKind, ModelVersion
from training_jobs.releases import selectors
from training_jobs.releases.contents import (
    FILTER_RULES,
    RISK_SIGNALS,
    SERVED_GENERATION_KEYS,
    release_content_label,
    release_content_text,
    release_contents_diff,
)
from training_jobs.releases.gate import P95_MS, release_checklist
from training_jobs.releases.monitor import arm_metrics, arm_reviews
from training_jobs.releases.services import (
    NEXT_STAGE,
    NOT_EDITABLE_WHY,
    release_alert_acknowledge,
    release_create,
    release_draft_update,
    release_promote,
    release_rollback,
)

# (metric, title, unit, target line, scale): the per-arm charts.
CHARTS = (
    ("errors", "Error rate", "%", settings.ARI_RELEASE_MAX_ERROR_RATE * 100, 100),
    ("escalations", "Escalation rate", "%", None, 100),
    ("filter_hits", "Response-filter hit rate", "%", None, 100),
    ("p95_ms", "p95 latency", "ms", P95_MS, 1),
)


def _release_or_404(release_id: int) -> Release:
    release = selectors.release_get(release_id=release_id)
    if release is None:
        raise Http404
    return release


def _charts(arms: dict) -> list[dict]:
    charts = []
    for key, title, unit, target, scale in CHARTS:
        values = []
        for arm in (CONTROL, CANARY):
            m = arms[arm]
            value = m.p95_ms if key == "p95_ms" else m.rate(key)
            values.append(None if value is None else round(value * scale, 3))
        layout = {
            "height": 260,
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "yaxis": {"title": unit, "rangemode": "tozero"},
        }
        if target is not None:
            layout["shapes"] = [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": target,
                    "y1": target,
                    "line": {"dash": "dot", "color": "#b00"},
                }
            ]
        charts.append(
            {
                "id": f"chart-{key}",
                "title": title,
                "target": f"{target:g} {unit}" if target is not None else "",
                "values": dict(zip((CONTROL, CANARY), values, strict=True)),
                "figure": {
                    "data": [{"type": "bar", "x": [CONTROL, CANARY], "y": values, "name": title}],
                    "layout": layout,
                },
            }
        )
    return charts


def _side_by_side(release: Release) -> list[dict]:
    """What changes: each part of the candidate beside the incumbent's."""
    incumbent = release.incumbent or selectors.release_live_get()
    rows = []
    other = incumbent if incumbent and incumbent.pk != release.pk else None
    for label, attr in (("Safety model", "safety_version"), ("Intent model", "intent_version")):
        new = getattr(release, attr)
        old = getattr(other, attr) if other else None
        rows.append(
            {
                "label": label,
                "candidate": new,
                "incumbent": old,
                "changed": new != old,
                "candidate_headline": getattr(new, "headline", None),
                "incumbent_headline": getattr(old, "headline", None),
            }
        )
    for label, kind in (
        ("Response-filter rule set", FILTER_RULES),
        ("Risk-signal file", RISK_SIGNALS),
    ):
        new_label = release_content_label(release, kind)
        old_label = release_content_label(other, kind) if other else None
        rows.append(
            {
                "label": label,
                "candidate": new_label,
                "incumbent": old_label,
                "changed": new_label != old_label,
            }
        )
    old_config = incumbent.generation_config if incumbent else {}
    for key in sorted(set(release.generation_config) | set(old_config)):
        new, old = release.generation_config.get(key), old_config.get(key)
        rows.append(
            {
                "label": f"Generation: {key}",
                "candidate": new,
                "incumbent": old,
                "changed": new != old,
            }
        )
    return rows


class ReleaseListPage(AdminRequired, View):
    def get(self, request):
        return render(
            request,
            "training_jobs/release_list.html",
            {
                "releases": list(selectors.release_list()[:50]),
                "live": selectors.release_live_get(),
                "alerts": selectors.release_alerts_open(),
                "generators": sorted(GENERATION_BACKENDS),
                "safety_versions": ModelVersion.objects.filter(
                    kind=ModelKind.SAFETY, gate_passed=True
                ).defer("metrics")[:30],
                "intent_versions": ModelVersion.objects.filter(
                    kind=ModelKind.INTENT, gate_passed=True
                ).defer("metrics")[:30],
            },
        )


def _form_text(request, name: str) -> str:
    """A text area's value with the browser's CRLF line breaks back to the file's LF (an
    unchanged text then stores as the same content)."""
    return request.POST.get(name, "").replace("\r\n", "\n")


class ReleaseCreatePage(AdminRequired, View):
    def post(self, request):
        chosen = {}
        for kind in ModelKind.values:
            raw = request.POST.get(f"{kind}_version", "")
            if raw:
                version = ModelVersion.objects.filter(pk=raw if raw.isdigit() else 0).first()
                if version is None:
                    messages.error(request, f"No such {kind} model version.")
                    return redirect("training_jobs:release-list")
                chosen[f"{kind}_version"] = version
        generation = {key: request.POST.get(key, "").strip() for key in SERVED_GENERATION_KEYS}
        try:
            release = release_create(
                safety_version=chosen.get("safety_version"),
                intent_version=chosen.get("intent_version"),
                notes=request.POST.get("notes", ""),
                created_by=request.user,
                generation_config=generation,
                filter_rules_yaml=_form_text(request, "filter_rules_yaml"),
                risk_signals_yaml=_form_text(request, "risk_signals_yaml"),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:release-list")
        messages.success(request, f"Draft {release.name} created.")
        return redirect("training_jobs:release-detail", release_id=release.pk)


# The edit form's text areas (besides the generation keys).
EDIT_TEXTS = ("filter_rules_yaml", "risk_signals_yaml", "notes")


def _edit_form(release: Release) -> dict:
    """The edit form's fields as the draft has them now (texts: the YAML it serves)."""
    config = release.generation_config or {}
    form = {k: "" if config.get(k) is None else str(config[k]) for k in SERVED_GENERATION_KEYS}
    form["filter_rules_yaml"] = release_content_text(release, FILTER_RULES)
    form["risk_signals_yaml"] = release_content_text(release, RISK_SIGNALS)
    form["notes"] = release.notes
    return form


class ReleaseEditPage(AdminRequired, View):
    """A draft's generation configuration, rule set, signal file and notes, edited and checked
    as on creation (``release_draft_update``); a refused edit shows the error above what the
    admin typed. A release past draft shows why it cannot be edited."""

    def _render(self, request, release: Release, form: dict, *, error: str = "", status=200):
        return render(
            request,
            "training_jobs/release_edit.html",
            {
                "release": release,
                "editable": release.stage == ReleaseStage.DRAFT,
                "not_editable_why": NOT_EDITABLE_WHY,
                "form": form,
                "error": error,
                "generators": sorted(GENERATION_BACKENDS),
            },
            status=status,
        )

    def get(self, request, release_id: int):
        release = _release_or_404(release_id)
        return self._render(request, release, _edit_form(release))

    def post(self, request, release_id: int):
        release = _release_or_404(release_id)
        now = _edit_form(release)
        typed = {key: request.POST.get(key, "").strip() for key in SERVED_GENERATION_KEYS}
        typed.update({key: _form_text(request, key) for key in EDIT_TEXTS})
        changed = {key: value for key, value in typed.items() if value != now[key]}
        generation = {key: changed.pop(key) for key in SERVED_GENERATION_KEYS if key in changed}
        try:
            release = release_draft_update(
                release_id=release.pk,
                user=request.user,
                generation_config=generation or None,
                **changed,
            )
        except ApplicationError as exc:
            release.refresh_from_db()
            return self._render(request, release, typed, error=exc.message, status=400)
        if changed or generation:
            messages.success(request, f"Draft {release.name} saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("training_jobs:release-detail", release_id=release.pk)


@method_decorator(inline_styles_allowed, name="dispatch")  # plotly.js adds <style> elements
class ReleasePage(AdminRequired, View):
    def get(self, request, release_id: int):
        release = _release_or_404(release_id)
        arms = {arm: m for arm, (m, _) in arm_metrics(release).items()}
        reviews = arm_reviews(release)
        charts = _charts(arms)
        return render(
            request,
            "training_jobs/release_detail.html",
            {
                "release": release,
                "events": selectors.release_events(release=release),
                "checklist": release_checklist(release),
                "smoke_runs": selectors.release_smoke_runs(release=release),
                "reviews": [reviews[CONTROL], reviews[CANARY]],
                "min_reviewed": settings.ARI_RELEASE_MIN_REVIEWED,
                "arms": [arms[CONTROL], arms[CANARY]],
                "charts": charts,
                "figures_json": [(f"{c['id']}-data", c["figure"]) for c in charts],
                "next_stage": NEXT_STAGE.get(release.stage),
                "min_sample": settings.ARI_RELEASE_MIN_SAMPLE,
            },
        )


def _confirm_page(request, release: Release, action: str, **extra):
    """The confirmation of a promotion or rollback: candidate beside incumbent, the checklist."""
    incumbent = release.incumbent or selectors.release_live_get()
    context = {
        "release": release,
        "action": action,
        "rows": _side_by_side(release),
        "content_diffs": release_contents_diff(
            release, incumbent if incumbent and incumbent.pk != release.pk else None
        ),
        "checklist": release_checklist(release),
        **extra,
    }
    return render(request, "training_jobs/release_confirm.html", context)


class ReleasePromotePage(AdminRequired, View):
    """GET: the confirmation (candidate beside incumbent, checklist); POST: promote."""

    def get(self, request, release_id: int):
        release = _release_or_404(release_id)
        target = NEXT_STAGE.get(release.stage)
        if target is None:
            messages.error(request, f"A {release.get_stage_display()} release cannot be promoted.")
            return redirect("training_jobs:release-detail", release_id=release.pk)
        return _confirm_page(
            request, release, "promote", target=Release(stage=target).get_stage_display()
        )

    def post(self, request, release_id: int):
        try:
            release = release_promote(
                release_id=release_id,
                user=request.user,
                from_stage=request.POST.get("from_stage", ""),
                override_reason=request.POST.get("override_reason", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:release-promote", release_id=release_id)
        messages.success(request, f"{release.name} is now {release.get_stage_display()}.")
        return redirect("training_jobs:release-detail", release_id=release.pk)


class ReleaseRollbackPage(AdminRequired, View):
    def get(self, request, release_id: int):
        return _confirm_page(request, _release_or_404(release_id), "rollback")

    def post(self, request, release_id: int):
        try:
            release = release_rollback(
                release_id=release_id,
                user=request.user,
                from_stage=request.POST.get("from_stage", ""),
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:release-rollback", release_id=release_id)
        messages.success(request, f"{release.name} was rolled back.")
        return redirect("training_jobs:release-detail", release_id=release.pk)


class ReleaseAlertAcknowledgePage(AdminRequired, View):
    def post(self, request, event_id: int):
        try:
            event = release_alert_acknowledge(event_id=event_id, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:release-list")
        return redirect("training_jobs:release-detail", release_id=event.release_id)
