"""Reads of the chat runtime. Other apps use these (and ``conversations.services``), never the
models' internals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ari_review.roles import ADMIN, CLINICIAN
from ari_review.ttl_cache import ttl_cached
from conversations.catalogue import (
    INTERNATIONAL,
    Catalogue,
    crisis_locale_choose,
    verification_is_stale,
)
from conversations.models import (
    ChatPreferences,
    ChatSession,
    ClinicianAlert,
    CrisisResource,
    EmergencyReply,
    Escalation,
    Message,
    PersonaPrompt,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# One earlier message of a session, as session_history returns it:
# (role, text, flow_step, risk_level).
HistoryRow: TypeAlias = tuple[str, str, str, str]

# Fixed safety texts used when no admin-edited row exists (the starter content stores these).
DEFAULT_EMERGENCY_TEXT = (
    "Thank you for telling me. I'm really sorry you're in this much pain, and I'm glad you "
    "reached out. You don't have to carry this alone: if you'd like to talk to someone right "
    "now, the people listed below are there for you, any time of day or night. I'm here with "
    "you too. Are you safe right now?"
)
DEFAULT_SAFETY_MODE_TEXT = (
    "I'm still here with you, and your safety matters most to me right now. If it would help, "
    "the crisis resources below are available any time. Can you tell me whether you're safe "
    "right now?"
)
DEFAULT_MEDIUM_RISK_TEXT = "I also want to gently check in: are you safe right now?"
DEFAULT_SAFETY_RESOLVED_TEXT = (
    "Thank you for letting me know. I'm really glad you're safe right now. The resources will "
    "stay right here if things change. Would you like to keep talking about what's been "
    "weighing on you?"
)
DEFAULT_UNAVAILABLE_TEXT = (
    "I'm here with you, and I want to understand. Could you tell me a little more about what's "
    "on your mind?"
)


# Admin-edited configuration read on every chat turn (fixed replies, persona, catalogue) is
# cached in-process for ARI_CONFIG_CACHE_SECONDS (``ari_review.ttl_cache``), so an edit takes
# effect within seconds.


def fixed_replies_get() -> EmergencyReply:
    """The active fixed safety replies (an unsaved default when none exists)."""
    return ttl_cached("fixed_replies", _fixed_replies_load)


def _fixed_replies_load() -> EmergencyReply:
    reply = EmergencyReply.objects.filter(active=True).order_by("-created_at", "-id").first()
    if reply is None:
        reply = EmergencyReply(
            text=DEFAULT_EMERGENCY_TEXT,
            safety_mode_text=DEFAULT_SAFETY_MODE_TEXT,
            medium_risk_text=DEFAULT_MEDIUM_RISK_TEXT,
            safety_resolved_text=DEFAULT_SAFETY_RESOLVED_TEXT,
            unavailable_text=DEFAULT_UNAVAILABLE_TEXT,
        )
    return reply


def persona_prompt_get_active() -> PersonaPrompt | None:
    return ttl_cached(
        "persona",
        lambda: PersonaPrompt.objects.filter(active=True).order_by("-version").first(),
    )


def persona_prompt_get(*, version: int | None) -> PersonaPrompt | None:
    """Persona prompt ``version`` (a release pins one), or the active one when ``version`` is
    None; None when that version does not exist."""
    if version is None:
        return persona_prompt_get_active()
    return ttl_cached(
        f"persona:v{version}", lambda: PersonaPrompt.objects.filter(version=version).first()
    )


def _active_resources() -> list[CrisisResource]:
    return list(CrisisResource.objects.filter(active=True).order_by("locale", "position", "id"))


def crisis_resources_list(*, locale: str | None = None) -> list[CrisisResource]:
    """Active catalogue entries for ``locale``; the international directory's when it has none
    (then the installation's default locale's, then the US's)."""
    locale = locale or settings.ARI_CRISIS_LOCALE
    active = ttl_cached("resources", _active_resources)
    for candidate in dict.fromkeys([locale, INTERNATIONAL, settings.ARI_CRISIS_LOCALE, "US"]):
        resources = [r for r in active if r.locale == candidate]
        if resources:
            return resources
    return []


def crisis_locales_available() -> list[str]:
    """The locales with at least one active entry (the international directory included)."""
    return sorted({r.locale for r in ttl_cached("resources", _active_resources)})


def chat_preferences_region(*, user: User) -> str:
    """The region the user chose for crisis lines ("" = from their browser)."""
    prefs = ChatPreferences.objects.filter(user=user).only("crisis_region").first()
    return prefs.crisis_region if prefs else ""


def crisis_locale_for(*, user: User, accept_language: str = "") -> str:
    """The catalogue a new session of ``user`` shows: their chosen region, else their browser's
    (``Accept-Language``), else the international directory or the installation's default
    (``conversations.catalogue.crisis_locale_choose``)."""
    return crisis_locale_choose(
        preference=chat_preferences_region(user=user),
        accept_language=accept_language,
        available=crisis_locales_available(),
        default=settings.ARI_CRISIS_LOCALE,
    )


def crisis_resources_unverified() -> tuple[list[str], list[str]]:
    """Active entries (as "name (locale)") never verified on this installation, and those not
    verified for 12 months (``conversations.catalogue.STALE_AFTER``)."""
    today = timezone.localdate()
    never_here, stale = [], []
    for resource in CrisisResource.objects.filter(active=True).order_by("locale", "position"):
        if not resource.verified_by:
            never_here.append(str(resource))
        if verification_is_stale(resource.last_verified, today=today):
            stale.append(str(resource))
    return never_here, stale


def crisis_resource_snapshot(resource: CrisisResource) -> dict[str, Any]:
    return {
        "id": resource.pk,
        "name": resource.name,
        "contact": resource.contact,
        "phone": resource.phone,
        "sms": resource.sms,
        "url": resource.url,
        "hours": resource.hours,
        "source_url": resource.source_url,
        "last_verified": resource.last_verified.isoformat() if resource.last_verified else "",
    }


def crisis_resource_snapshots(*, locale: str | None = None) -> list[dict[str, Any]]:
    """:func:`crisis_resource_snapshot` of each entry of :func:`crisis_resources_list`."""
    return [crisis_resource_snapshot(r) for r in crisis_resources_list(locale=locale)]


def crisis_catalogue_get() -> Catalogue:
    """Everything the response filter may let through: every active catalogue entry."""

    def load() -> Catalogue:
        return Catalogue.from_resources(ttl_cached("resources", _active_resources))

    return ttl_cached("catalogue", load)


def chat_preferences_get(*, user: User) -> dict[str, Any]:
    prefs = ChatPreferences.objects.filter(user=user).first()
    return prefs.as_dict() if prefs else ChatPreferences(user=user).as_dict()


def session_list_for_user(*, user: User) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.filter(user=user)
        .annotate(message_count=Count("messages"))
        .order_by("-created_at", "-id")
    )


def session_get_for_user(
    *, user: User, public_id: UUID | str, for_update: bool = False
) -> ChatSession:
    """The user's own session; anyone else's (or a malformed id) is a 404.

    ``for_update`` locks the row (``SELECT ... FOR UPDATE``: inside a transaction only).
    """
    sessions = ChatSession.objects.filter(user_id=user.pk)
    if for_update:
        sessions = sessions.select_for_update()
    try:
        session = sessions.filter(public_id=public_id).first()
    except (ValidationError, ValueError, TypeError) as exc:
        raise Http404("No such session.") from exc
    if session is None:
        raise Http404("No such session.")
    return session


def session_open_latest(*, user: User) -> ChatSession | None:
    return (
        ChatSession.objects.filter(user=user, status=ChatSession.Status.OPEN)
        .order_by("-created_at", "-id")
        .first()
    )


def session_messages(*, session: ChatSession) -> QuerySet[Message]:
    return session.messages.order_by("created_at", "id")


def session_transcript_get(*, session_id: int) -> ChatSession:
    """A session with its messages prefetched in order (clinician review, exports)."""
    return ChatSession.objects.prefetch_related(
        Prefetch("messages", queryset=Message.objects.order_by("created_at", "id"))
    ).get(pk=session_id)


def session_history(*, session: ChatSession, before_id: int, limit: int = 20) -> list[HistoryRow]:
    """(role, text, flow_step, risk_level) of the last ``limit`` messages before ``before_id``,
    oldest first."""
    rows = (
        Message.objects.filter(session=session, id__lt=before_id)
        .order_by("-id")
        .values_list("role", "text", "flow_step", "risk_level")[:limit]
    )
    return list(reversed(rows))


def previous_summary_for_user(*, user: User) -> str:
    last = (
        ChatSession.objects.filter(user=user, status=ChatSession.Status.ENDED)
        .exclude(summary="")
        .order_by("-ended_at", "-id")
        .values_list("summary", flat=True)
        .first()
    )
    return last or ""


def oncall_recipients() -> QuerySet[User]:
    """Active clinicians/admins in the on-call group; every active clinician if it is empty."""
    User = get_user_model()
    on_call = (
        User.objects.filter(is_active=True, groups__name=settings.ARI_ONCALL_GROUP)
        .filter(pk__in=User.objects.filter(groups__name__in=[CLINICIAN, ADMIN]).values("pk"))
        .distinct()
    )
    if on_call.exists():
        return on_call
    return User.objects.filter(is_active=True, groups__name=CLINICIAN).distinct()


def clinician_alert_list(*, user: User, unread_only: bool = True) -> QuerySet[ClinicianAlert]:
    alerts = ClinicianAlert.objects.filter(recipient=user).select_related("escalation")
    if unread_only:
        alerts = alerts.filter(read_at__isnull=True)
    return alerts.order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")


def session_has_emergency(*, session: ChatSession) -> bool:
    return session.messages.filter(Q(emergency=True)).exists()


def user_data_summary(*, user: User) -> dict[str, Any]:
    """What the "Your data" page says is stored: sessions, messages, preferences, and how many
    sessions an erasure would keep (an open escalation), in three queries."""
    counts = ChatSession.objects.filter(user=user).aggregate(
        sessions=Count("id", distinct=True), messages=Count("messages")
    )
    held = (
        Escalation.objects.filter(session__user=user, status=Escalation.Status.OPEN)
        .values("session_id")
        .distinct()
        .count()
    )
    return {
        "sessions": counts["sessions"],
        "messages": counts["messages"],
        "held_sessions": held,
        "has_preferences": ChatPreferences.objects.filter(user=user).exists(),
    }
