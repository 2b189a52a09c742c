"""Pages of the clinician workspace. They work without JavaScript (forms post here and redirect
to the next item); ``static/js/workspace.js`` adds keyboard shortcuts and loads the next item
through the API without a full page reload (it swaps in ``?fragment=1`` of the item page)."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.audit import labels_view_record, transcript_view_record
from ari_review.headers import inline_styles_allowed
from ari_review.mixins import AdminRequired, ClinicianRequired
from ari_review.privacy.masking import mask_messages
from conversations.models import Escalation, Intent, RiskCategory, RiskLevel
from evaluation import selectors
from evaluation.label_sets import LABEL_SETS
from evaluation.metrics_catalogue import METRICS
from evaluation.models import Appropriateness, ReplyFlag, SeedDialogue, Urgency, WorkItem
from evaluation.services import (
    QUALITY_CHECKLIST,
    CandidateScoreInput,
    ReplyInput,
    adjudication_create,
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
    escalation_close,
    import_file,
    intent_label_create,
    preference_judgement_create,
    review_queue_sync_urgent,
    safety_label_create,
    session_rating_create,
    user_is_senior,
    work_item_lock,
    work_item_release,
    work_item_take_next,
)
from evaluation.services.imports import FORMATS
from evaluation.services.preferences import SCORE_DIMENSIONS
from evaluation.signal_views import exemplar_choices

Kind = WorkItem.Kind

# --- Keyboard maps (shown on screen and used by workspace.js through data-key attributes) ------

APPROPRIATENESS_KEYS = list(zip("1234", Appropriateness.choices, strict=True))
REPLY_FLAG_KEYS = list(zip("vcluaw", ReplyFlag.choices, strict=True))
RISK_KEYS = list(zip("0123", RiskLevel.choices, strict=True))
CATEGORY_KEYS = list(zip("qwert", RiskCategory.choices, strict=True))
URGENCY_KEYS = list(zip("asdfg", Urgency.choices, strict=True))
INTENT_KEYS = list(zip("1234567890", Intent.choices, strict=True))
SCORE_KEYS = list(zip("epsf", SCORE_DIMENSIONS, strict=True))
CHECKLIST_KEYS = list(zip("12345", QUALITY_CHECKLIST, strict=True))

QUEUES = {
    Kind.REVIEW: {
        "title": "Review queue",
        "queue_url": "evaluation:review-queue",
        "item_url": "evaluation:review-item",
        "what": "sessions to rate",
        "api_submit": "eval-session-rating",
    },
    Kind.SAFETY: {
        "title": "Safety labelling",
        "queue_url": "evaluation:safety-labelling",
        "item_url": "evaluation:safety-item",
        "what": "user messages to label with risk level, category and urgency",
        "api_submit": "eval-safety-label",
    },
    Kind.INTENT: {
        "title": "Intent labelling",
        "queue_url": "evaluation:intent-labelling",
        "item_url": "evaluation:intent-item",
        "what": "Ari's replies to label with their intent",
        "api_submit": "eval-intent-label",
    },
    Kind.PREFERENCE: {
        "title": "Comparisons",
        "queue_url": "evaluation:preference-queue",
        "item_url": "evaluation:preference-item",
        "what": "candidate replies to compare (blind, random order)",
        "api_submit": "eval-preference",
    },
}


def _blind(request) -> bool:
    raw = request.GET.get("blind")
    if raw is None:
        return bool(request.session.get("evaluation_blind", settings.EVALUATION_BLIND_LABELLING))
    blind = raw in ("1", "true", "yes", "on")
    request.session["evaluation_blind"] = blind
    return blind


def _skipped(request, kind: str) -> list[int]:
    return list(request.session.get(f"evaluation_skipped_{kind}", []))


def _remember_skip(request, kind: str, item_id: int) -> None:
    skipped = [i for i in _skipped(request, kind) if i != item_id][-199:] + [item_id]
    request.session[f"evaluation_skipped_{kind}"] = skipped


def _go_next(request, kind: str):
    """Take the next item and show it, or go back to the queue page when it is empty."""
    item = work_item_take_next(
        kind=kind, clinician=request.user, exclude_ids=_skipped(request, kind)
    )
    if item is None:
        request.session.pop(f"evaluation_skipped_{kind}", None)
        messages.info(request, "Nothing left in this queue for you. Thank you!")
        return redirect(QUEUES[kind]["queue_url"])
    return redirect(QUEUES[kind]["item_url"], item.pk)


# --- Queues ---------------------------------------------------------------------------------------


class QueuePage(ClinicianRequired, View):
    kind: str = Kind.REVIEW

    def get(self, request):
        if self.kind == Kind.REVIEW:
            review_queue_sync_urgent()
        items = list(selectors.queue_items_list(kind=self.kind, clinician=request.user)[:25])
        return render(
            request,
            "evaluation/queue.html",
            {
                "kind": self.kind,
                "queue": QUEUES[self.kind],
                "items": items,
                "progress": selectors.work_progress(kind=self.kind, clinician=request.user),
                "next_url": reverse("evaluation:queue-next", args=[self.kind]),
                "blind": _blind(request),
            },
        )


class QueueNextPage(ClinicianRequired, View):
    def post(self, request, kind: str):
        if kind not in QUEUES:
            raise Http404("No such queue.")
        return _go_next(request, kind)


class ItemLockPage(ClinicianRequired, View):
    def post(self, request, item_id: int):
        item = selectors.work_item_get(item_id=item_id)
        if item is None:
            raise Http404
        try:
            work_item_lock(item=item, clinician=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(QUEUES[item.kind]["queue_url"])
        return redirect(QUEUES[item.kind]["item_url"], item.pk)


class ItemSkipPage(ClinicianRequired, View):
    def post(self, request, item_id: int):
        item = selectors.work_item_get(item_id=item_id)
        if item is None:
            raise Http404
        work_item_release(item=item, clinician=request.user)
        _remember_skip(request, item.kind, item.pk)
        return _go_next(request, item.kind)


class EscalationClosePage(ClinicianRequired, View):
    def post(self, request, escalation_id: int):
        escalation = Escalation.objects.filter(pk=escalation_id).first()
        if escalation is None:
            raise Http404
        try:
            escalation_close(
                escalation=escalation, clinician=request.user, note=request.POST.get("note", "")
            )
            messages.success(request, "Escalation closed.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(back)
        return redirect("evaluation:review-queue")


class ItemPage(ClinicianRequired, View):
    """One queue item: GET shows it (``?fragment=1``: only the panel, for workspace.js); POST
    saves the form (the no-JavaScript path) and moves on to the next item."""

    kind: str = Kind.REVIEW
    panel_templates = {
        Kind.REVIEW: "evaluation/panels/review.html",
        Kind.SAFETY: "evaluation/panels/safety.html",
        Kind.INTENT: "evaluation/panels/intent.html",
        Kind.PREFERENCE: "evaluation/panels/preference.html",
    }

    def _item(self, item_id: int) -> WorkItem:
        item = selectors.work_item_get(item_id=item_id, kind=self.kind)
        if item is None:
            raise Http404("No such item.")
        return item

    def context(self, request, item: WorkItem, *, error: str = "", posted=None) -> dict:
        blind = _blind(request)
        ctx = {
            "kind": self.kind,
            "queue": QUEUES[self.kind],
            "item": item,
            "blind": blind,
            "error": error,
            "posted": posted or {},
            "progress": selectors.work_progress(kind=self.kind, clinician=request.user),
            "api_submit": reverse(QUEUES[self.kind]["api_submit"], args=[item.pk]),
            "api_next": reverse("eval-queue-next", args=[self.kind]),
            "api_release": reverse("eval-item-release", args=[item.pk]),
            "panel_template": self.panel_templates[self.kind],
        }
        if self.kind == Kind.REVIEW:
            view = selectors.review_item_detail(item=item, clinician=request.user)
            ctx.update(
                view=view,
                appropriateness_keys=APPROPRIATENESS_KEYS,
                reply_flag_keys=REPLY_FLAG_KEYS,
            )
        elif self.kind == Kind.PREFERENCE:
            view = selectors.preference_item_detail(item=item, clinician=request.user)
            ctx.update(view=view, score_keys=SCORE_KEYS, score_values=range(4))
        else:
            view = selectors.label_item_detail(item=item, clinician=request.user, blind=blind)
            ctx.update(
                view=view,
                risk_keys=RISK_KEYS,
                category_keys=CATEGORY_KEYS,
                urgency_keys=URGENCY_KEYS,
                intent_keys=INTENT_KEYS,
                **exemplar_choices(),
            )
        transcript_view_record(actor=request.user, item=item, via="page")
        return ctx

    def get(self, request, item_id: int):
        item = self._item(item_id)
        ctx = self.context(request, item)
        if request.GET.get("fragment"):
            return render(request, ctx["panel_template"], ctx)
        return render(request, "evaluation/item_page.html", ctx)

    def post(self, request, item_id: int):
        item = self._item(item_id)
        try:
            self.save(request, item)
        except ApplicationError as exc:
            ctx = self.context(request, item, error=exc.message, posted=request.POST)
            return render(request, "evaluation/item_page.html", ctx, status=400)
        return _go_next(request, self.kind)

    def save(self, request, item: WorkItem) -> None:
        data = request.POST
        if self.kind == Kind.REVIEW:
            replies = []
            for key in data:
                if key.startswith("reply_"):
                    message_id = int(key.split("_", 1)[1])
                    validated = data.get(f"validated_{message_id}", "")
                    replies.append(
                        ReplyInput(
                            message_id,
                            tuple(data.getlist(f"flags_{message_id}")),
                            {"yes": True, "no": False}.get(validated),
                        )
                    )
            if not data.get("appropriateness"):
                raise ApplicationError("Choose the overall appropriateness (keys 1-4).")
            session_rating_create(
                item=item,
                clinician=request.user,
                appropriateness=data["appropriateness"],
                replies=replies,
                note=data.get("note", ""),
            )
        elif self.kind == Kind.SAFETY:
            if not data.get("risk_level"):
                raise ApplicationError("Choose a risk level (keys 0-3).")
            safety_label_create(
                item=item,
                clinician=request.user,
                risk_level=data["risk_level"],
                category=data.get("category", ""),
                urgency=data.get("urgency") or Urgency.NONE,
                suggestion_shown=data.get("suggestion_shown") == "1",
            )
        elif self.kind == Kind.INTENT:
            if not data.get("intent"):
                raise ApplicationError("Choose an intent (keys 1-9, 0).")
            intent_label_create(
                item=item,
                clinician=request.user,
                intent=data["intent"],
                suggestion_shown=data.get("suggestion_shown") == "1",
            )
        else:
            choice = data.get("choice", "")
            if not choice:
                raise ApplicationError("Pick the best reply (1-3) or a tie (0).")
            scores = []
            for cid in data.getlist("candidate"):
                try:
                    scores.append(
                        CandidateScoreInput(
                            candidate_id=int(cid),
                            **{d: int(data.get(f"{d}_{cid}", "")) for d in SCORE_DIMENSIONS},
                            unsafe=data.get(f"unsafe_{cid}") == "1",
                        )
                    )
                except ValueError:
                    raise ApplicationError("Give every candidate all four scores (0-3).") from None
            preference_judgement_create(
                item=item,
                clinician=request.user,
                chosen_id=None if choice == "tie" else int(choice),
                tie=choice == "tie",
                scores=scores,
                note=data.get("note", ""),
            )


# --- Seed dialogues -------------------------------------------------------------------------------


class DialogueListPage(ClinicianRequired, View):
    def get(self, request):
        state = request.GET.get("state") or ""
        if state not in SeedDialogue.State.values:
            state = ""
        search = request.GET.get("q", "").strip()[:100]
        page = Paginator(selectors.dialogue_list(state=state or None, search=search), 50).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "evaluation/dialogue_list.html",
            {
                "page": page,
                "state": state,
                "search": search,
                "states": SeedDialogue.State.choices,
                "counts": selectors.dialogue_state_counts(),
            },
        )


def _messages_from_post(data) -> list[dict]:
    """Rows ``role_N``/``content_N`` (blank rows ignored), or the raw JSON textarea."""
    raw = data.get("messages_json", "").strip()
    if raw:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"Messages JSON, line {exc.lineno}: {exc.msg}.") from None
        return value
    rows = []
    indexes = sorted(int(k.split("_", 1)[1]) for k in data if k.startswith("content_"))
    for i in indexes:
        content = data.get(f"content_{i}", "").strip()
        if content:
            rows.append({"role": data.get(f"role_{i}", "user"), "content": content})
    return rows


def _dialogue_fields(data) -> dict:
    return {
        "title": data.get("title", ""),
        "messages": _messages_from_post(data),
        "session_type": data.get("session_type", ""),
        "flow_step": data.get("flow_step", ""),
        "tags": [t.strip() for t in data.get("tags", "").split(",") if t.strip()],
    }


class DialogueCreatePage(ClinicianRequired, View):
    def get(self, request):
        variant_of = request.GET.get("variant_of")
        original = selectors.dialogue_get(dialogue_id=int(variant_of)) if variant_of else None
        rows = (
            list(original.messages)
            if original
            else [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]
        )
        return render(
            request,
            "evaluation/dialogue_form.html",
            {
                "dialogue": None,
                "rows": rows + [{"role": "user", "content": ""}] * 2,
                "original": original,
                "roles": ("user", "assistant", "system"),
            },
        )

    def post(self, request):
        original = None
        if request.POST.get("variant_of"):
            original = selectors.dialogue_get(dialogue_id=int(request.POST["variant_of"]))
        try:
            dialogue = dialogue_create(
                author=request.user, variant_of=original, **_dialogue_fields(request.POST)
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "evaluation/dialogue_form.html",
                {
                    "dialogue": None,
                    "rows": _messages_from_post(request.POST) or [{}],
                    "original": original,
                    "roles": ("user", "assistant", "system"),
                    "posted": request.POST,
                },
                status=400,
            )
        messages.success(request, "Dialogue saved as a draft.")
        return redirect("evaluation:dialogue-detail", dialogue.pk)


class DialogueDetailPage(ClinicianRequired, View):
    """Read, edit, paraphrase, and review a dialogue (the quality checklist is on screen)."""

    def _get(self, dialogue_id: int) -> SeedDialogue:
        dialogue = selectors.dialogue_get(dialogue_id=dialogue_id)
        if dialogue is None:
            raise Http404("No such dialogue.")
        return dialogue

    def _render(self, request, dialogue, status=200):
        next_in_review = (
            SeedDialogue.objects.filter(state=SeedDialogue.State.IN_REVIEW)
            .exclude(pk=dialogue.pk)
            .order_by("updated_at", "id")
            .values_list("id", flat=True)
            .first()
        )
        return render(
            request,
            "evaluation/dialogue_detail.html",
            {
                "dialogue": dialogue,
                "shown_messages": mask_messages(dialogue.messages),
                "rows": list(dialogue.messages) + [{"role": "user", "content": ""}],
                "roles": ("user", "assistant", "system"),
                "checklist_keys": CHECKLIST_KEYS,
                "next_in_review": next_in_review,
                "hints": _checklist_hints(dialogue.messages),
            },
            status=status,
        )

    def get(self, request, dialogue_id: int):
        return self._render(request, self._get(dialogue_id))

    def post(self, request, dialogue_id: int):
        dialogue = self._get(dialogue_id)
        action = request.POST.get("action", "")
        checklist = {key: request.POST.get(f"check_{key}") == "1" for key, _ in QUALITY_CHECKLIST}
        try:
            if action == "save":
                dialogue = dialogue_update(
                    dialogue=dialogue, editor=request.user, **_dialogue_fields(request.POST)
                )
                messages.success(request, "Saved.")
            elif action == "submit":
                dialogue = dialogue_submit(dialogue=dialogue, user=request.user)
                messages.success(request, "Sent for review.")
            elif action == "approve":
                dialogue = dialogue_approve(
                    dialogue=dialogue,
                    reviewer=request.user,
                    checklist=checklist,
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, "Approved.")
            elif action == "reject":
                dialogue = dialogue_reject(
                    dialogue=dialogue,
                    reviewer=request.user,
                    checklist=checklist,
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, "Rejected.")
            elif action == "variant":
                variant = dialogue_variant_create(
                    original=dialogue,
                    author=request.user,
                    message_index=int(request.POST.get("message_index", -1)),
                    content=request.POST.get("paraphrase", ""),
                )
                messages.success(request, "Paraphrase variant saved as a draft.")
                return redirect("evaluation:dialogue-detail", variant.pk)
            else:
                raise ApplicationError("Unknown action.")
        except (ApplicationError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "Invalid input."))
            return self._render(request, self._get(dialogue_id), status=400)
        if action in ("approve", "reject") and request.POST.get("then_next"):
            following = (
                SeedDialogue.objects.filter(state=SeedDialogue.State.IN_REVIEW)
                .order_by("updated_at", "id")
                .values_list("id", flat=True)
                .first()
            )
            if following:
                return redirect("evaluation:dialogue-detail", following)
        return redirect("evaluation:dialogue-detail", dialogue.pk)


def _checklist_hints(messages_: list[dict]) -> list[str]:
    """Automatic hints next to the checklist (the clinician still decides)."""
    import re

    hints = []
    replies = [m["content"] for m in messages_ if m.get("role") == "assistant"]
    for i, text in enumerate(replies, start=1):
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
        if not 2 <= len(sentences) <= 4:
            hints.append(f"Reply {i} has {len(sentences)} sentence(s).")
    return hints


class ImportPage(ClinicianRequired, View):
    accepts_uploads = True  # bodies up to ARI_MAX_UPLOAD_BYTES (ari_review.request_edges)

    def get(self, request):
        return render(request, "evaluation/import.html", {"formats": FORMATS})

    def post(self, request):
        upload = request.FILES.get("file")
        fmt = request.POST.get("format", "")
        if upload is None:
            messages.error(request, "Choose a file to import.")
            return render(request, "evaluation/import.html", {"formats": FORMATS}, status=400)
        try:
            result = import_file(
                format=fmt,
                fileobj=upload,
                filename=upload.name,
                user=request.user,
                dialogues=request.POST.get("dialogues") == "1",
                intent_items=request.POST.get("intent_items") == "1",
            )
        except ApplicationError as exc:
            messages.error(request, f"Nothing was imported. {exc.message}")
            return render(request, "evaluation/import.html", {"formats": FORMATS}, status=400)
        messages.success(request, result.summary())
        return redirect("evaluation:dialogue-list")


# --- Agreement and adjudication -------------------------------------------------------------------


class AgreementPage(ClinicianRequired, View):
    def get(self, request):
        key = request.GET.get("label_set", "review.appropriateness")
        if key not in LABEL_SETS:
            key = "review.appropriateness"
        current = selectors.agreement_summary(label_set=key)
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
        rows = selectors.disagreements_list(label_set=key)
        if rows:
            labels_view_record(
                actor=request.user, item_ids=[row.item.pk for row in rows], via="page:adjudication"
            )
        return render(
            request,
            "evaluation/adjudication.html",
            {
                "rows": rows,
                "decided": selectors.adjudications_list(limit=20),
                "label_sets": LABEL_SETS.values(),
                "key": key or "",
                "senior": user_is_senior(request.user),
            },
        )

    def post(self, request):
        item = selectors.work_item_get(item_id=int(request.POST.get("item_id", 0) or 0))
        if item is None:
            raise Http404
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
        return redirect(
            f"{reverse('evaluation:adjudication')}?label_set={request.POST.get('label_set', '')}"
        )


# --- Dashboards, audit ----------------------------------------------------------------------------


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
        series = selectors.metric_series(days=days)
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


class AuditLogPage(AdminRequired, View):
    def get(self, request):
        filters = {
            k: request.GET.get(k, "").strip()[:60] for k in ("action", "actor", "object_type")
        }
        page = Paginator(selectors.audit_events_list(**filters), 50).get_page(
            request.GET.get("page")
        )
        return render(request, "evaluation/audit_log.html", {"page": page, "filters": filters})
