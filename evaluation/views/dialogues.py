"""Seed dialogues: list, author, review (detail), import from files."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from ari_review.privacy.masking import mask_messages
from evaluation.models import SeedDialogue
from evaluation.selectors.dialogues import dialogue_get, dialogue_list, dialogue_state_counts
from evaluation.services import (
    QUALITY_CHECKLIST,
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
    import_file,
)
from evaluation.services.imports.formats import FORMATS
from evaluation.views.common import CHECKLIST_KEYS


class DialogueListPage(ClinicianRequired, View):
    def get(self, request):
        state = request.GET.get("state") or ""
        if state not in SeedDialogue.State.values:
            state = ""
        search = request.GET.get("q", "").strip()[:100]
        page = Paginator(dialogue_list(state=state or None, search=search), 50).get_page(
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
                "counts": dialogue_state_counts(),
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
        original = dialogue_get(dialogue_id=int(variant_of)) if variant_of else None
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
            original = dialogue_get(dialogue_id=int(request.POST["variant_of"]))
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
        dialogue = dialogue_get(dialogue_id=dialogue_id)
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
