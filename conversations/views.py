"""Chat pages for end users. Every action is a plain form POST (works without JavaScript);
``static/js/chat.js`` enhances the chat page to send through the API without a reload."""

from __future__ import annotations

import uuid

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import EndUserRequired
from conversations.catalogue import region_label
from conversations.flows import FLOWS, STEP_LABELS
from conversations.models import ChatSession, Message, SessionLength, SessionType, Tone
from conversations.selectors import (
    chat_preferences_get,
    chat_preferences_region,
    crisis_locales_available,
    crisis_resource_snapshot,
    crisis_resources_list,
    previous_summary_for_user,
    session_get_for_user,
    session_list_for_user,
    session_messages,
    session_open_latest,
    user_data_summary,
)
from conversations.services import (
    chat_preferences_update,
    chat_turn_run,
    session_create,
    session_end,
    session_rate,
    session_summary_update,
    user_data_erase,
    user_data_export,
)
from conversations.services.message_input import MAX_MESSAGE_CHARS

SESSION_TYPE_HELP: dict[str, str] = {
    SessionType.CHECK_IN: "A short mood check-in: how are you arriving today?",
    SessionType.GENTLE_DEEP: (
        "Gently explore a recurring feeling or belief, step by step, at your pace. Ari always "
        "asks before going deeper."
    ),
    SessionType.MICRO_PRACTICE: "A two-minute guided breathing or grounding practice.",
}
SESSION_INTROS: dict[str, str] = {
    SessionType.CHECK_IN: "Hi, I'm Ari. How are you arriving today, in a word or two?",
    SessionType.GENTLE_DEEP: (
        "Hi, I'm Ari. What's been on your mind lately? Take your time; there's no rush."
    ),
    SessionType.MICRO_PRACTICE: (
        "Hi, I'm Ari. Let's take a small pause together. How are you feeling right now?"
    ),
}


def _preference_choices() -> dict:
    return {
        "session_length": SessionLength.choices,
        "tone": Tone.choices,
        "crisis_region": [(code, region_label(code)) for code in crisis_locales_available()],
    }


class ChatView(EndUserRequired, View):
    """``/chat/``: the open session, or the page to start one."""

    def get(self, request):
        session = session_open_latest(user=request.user)
        if session is not None and "new" not in request.GET:
            return redirect("conversations:session", session_id=session.public_id)
        return render(
            request,
            "conversations/chat_start.html",
            {
                "session_types": [
                    (value, label, SESSION_TYPE_HELP[value]) for value, label in SessionType.choices
                ],
                "preferences": {
                    **chat_preferences_get(user=request.user),
                    "crisis_region": chat_preferences_region(user=request.user),
                },
                "preference_choices": _preference_choices(),
                "previous_summary": previous_summary_for_user(user=request.user),
                "open_session": session,
            },
        )


class SessionStartView(EndUserRequired, View):
    def post(self, request):
        preferences = {
            key: request.POST[key] for key in ("session_length", "tone") if request.POST.get(key)
        }
        try:
            session = session_create(
                user=request.user,
                session_type=request.POST.get("session_type", ""),
                preferences=preferences,
                accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
            )
        except ApplicationError as exc:
            flash.error(request, exc.message)
            return redirect(reverse("conversations:chat") + "?new=1")
        return redirect("conversations:session", session_id=session.public_id)


def _suggested_replies(session: ChatSession, messages: list) -> list[str]:
    """The latest reply's one-tap answers (safety-check mode), while the session is open."""
    if session.status != ChatSession.Status.OPEN or not messages:
        return []
    if messages[-1].role != Message.Role.ASSISTANT:
        return []
    suggestions = getattr(messages[-1], "suggested_replies", None) or []
    return [s for s in suggestions if isinstance(s, str) and s.strip()]


def _session_context(request, session: ChatSession, **extra) -> dict:
    messages = list(session_messages(session=session))
    resources = [crisis_resource_snapshot(r) for r in crisis_resources_list(locale=session.locale)]
    show_resources = session.safety_mode or any(m.emergency for m in messages)
    steps = FLOWS.get(session.session_type, ())
    return {
        "session": session,
        "chat_messages": messages,
        "suggested_replies": _suggested_replies(session, messages),
        "resources": resources,
        "show_resources": show_resources,
        "intro": SESSION_INTROS.get(session.session_type, ""),
        "steps": [(s, STEP_LABELS.get(s, s)) for s in steps],
        "current_step_label": STEP_LABELS.get(session.flow_step, ""),
        "max_chars": MAX_MESSAGE_CHARS,
        "max_chars_label": f"{MAX_MESSAGE_CHARS:,}",
        "idempotency_key": uuid.uuid4().hex,
        "suggestion_idempotency_key": uuid.uuid4().hex,
        "preferences": {
            **session.preferences,
            "crisis_region": chat_preferences_region(user=request.user),
        },
        "region_label": region_label(session.locale),
        "preference_choices": _preference_choices(),
        "draft": "",
        "error": "",
        **extra,
    }


class SessionView(EndUserRequired, View):
    def get(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        return render(
            request, "conversations/chat_session.html", _session_context(request, session)
        )


class MessageSendView(EndUserRequired, View):
    """The no-JavaScript send: run the turn, then redirect back to the transcript."""

    # The message's characters are checked by the turn, which re-renders the form with the
    # draft kept; ari_review.request_edges checks every other field.
    fields_checked_by_view = ("text",)

    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        # Browsers send a textarea's line breaks as CRLF: count them as the page's counter does.
        text = request.POST.get("text", "").replace("\r\n", "\n")
        try:
            result = chat_turn_run(
                session=session,
                text=text,
                idempotency_key=request.POST.get("idempotency_key", ""),
            )
        except ApplicationError as exc:
            session.refresh_from_db()
            context = _session_context(request, session, draft=text, error=exc.message)
            return render(request, "conversations/chat_session.html", context, status=400)
        url = reverse("conversations:session", kwargs={"session_id": session.public_id})
        return redirect(f"{url}#m-{result.reply.pk}")


class SessionEndView(EndUserRequired, View):
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        session_end(session=session)
        flash.success(request, "Session ended. Thank you for taking this time for yourself.")
        url = reverse("conversations:session", kwargs={"session_id": session.public_id})
        return redirect(f"{url}#rating")


class SessionRateView(EndUserRequired, View):
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        try:
            stars = int(request.POST.get("stars", ""))
        except ValueError:
            stars = 0
        try:
            session_rate(session=session, stars=stars, comment=request.POST.get("comment", ""))
        except ApplicationError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, "Thank you for your rating.")
        url = reverse("conversations:session", kwargs={"session_id": session.public_id})
        return redirect(f"{url}#rating")


class SessionSummaryView(EndUserRequired, View):
    """The user corrects (or, with "Delete", removes) their ended session's summary."""

    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        text = "" if request.POST.get("action") == "delete" else request.POST.get("summary", "")
        try:
            session = session_summary_update(session=session, text=text)
        except ApplicationError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, "Summary saved." if session.summary else "Summary deleted.")
        url = reverse("conversations:session", kwargs={"session_id": session.public_id})
        return redirect(f"{url}#summary")


class PreferencesView(EndUserRequired, View):
    def post(self, request):
        session = None
        if request.POST.get("session_id"):
            session = session_get_for_user(user=request.user, public_id=request.POST["session_id"])
        try:
            chat_preferences_update(
                user=request.user,
                session_length=request.POST.get("session_length") or None,
                tone=request.POST.get("tone") or None,
                crisis_region=request.POST.get("crisis_region"),
                session=session,
            )
        except ApplicationError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, "Preferences saved.")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("conversations:chat")
        return redirect(next_url)


class SessionListView(EndUserRequired, View):
    def get(self, request):
        page = Paginator(session_list_for_user(user=request.user), 20).get_page(
            request.GET.get("page")
        )
        return render(request, "conversations/session_list.html", {"page": page})


# --- "Your data": download and erase (docs/privacy.md) -----------------------------------------

ERASE_CONFIRM_FIELD = "confirm"


class MyDataView(EndUserRequired, View):
    """What is stored about me, a download link, and the way to erase it."""

    def get(self, request):
        return render(
            request, "conversations/my_data.html", {"summary": user_data_summary(user=request.user)}
        )


class MyDataDownloadView(EndUserRequired, View):
    """My data as a JSON file (the same document as ``GET /api/v1/me/data/``)."""

    def get(self, request):
        data = user_data_export(user=request.user, via="page")
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="ari-my-data-{stamp}.json"'
        return response


class MyDataEraseView(EndUserRequired, View):
    """The confirmation step (GET), then the erasure (POST with the box ticked)."""

    template = "conversations/my_data_erase.html"

    def get(self, request):
        context = {"summary": user_data_summary(user=request.user), "error": ""}
        return render(request, self.template, context)

    def post(self, request):
        if request.POST.get(ERASE_CONFIRM_FIELD) != "yes":
            context = {
                "summary": user_data_summary(user=request.user),
                "error": "Tick the box to confirm that you want your data erased.",
            }
            return render(request, self.template, context, status=400)
        result = user_data_erase(user=request.user, via="page")
        text = (
            f"Erased {result.sessions_erased} session(s) and {result.messages_erased} message(s)."
        )
        if result.sessions_kept:
            text += (
                f" {result.sessions_kept} session(s) with an open safety follow-up are kept until "
                "our care team closes it; you can erase them then."
            )
        flash.success(request, text)
        return redirect("conversations:my-data")
