"""Sessions: start, preferences, end (with the summary the next session receives), rating."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from conversations.catalogue import region_normalise
from conversations.flows import flow_first_step
from conversations.models import (
    ChatPreferences,
    ChatSession,
    SessionLength,
    SessionType,
    Tone,
)
from conversations.selectors import (
    chat_preferences_get,
    crisis_locale_for,
    crisis_locales_available,
    previous_summary_for_user,
)
from conversations.services.summary import SUMMARY_MAX_CHARS, session_summary_build

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def _clean_preferences(preferences: dict[str, Any] | None) -> dict[str, Any]:
    preferences = dict(preferences or {})
    unknown = set(preferences) - {"session_length", "tone"}
    if unknown:
        raise ApplicationError(f"Unknown preference(s): {', '.join(sorted(unknown))}.")
    length = preferences.get("session_length")
    if length is not None and length not in SessionLength.values:
        raise ApplicationError(f"session_length must be one of: {', '.join(SessionLength.values)}.")
    tone = preferences.get("tone")
    if tone is not None and tone not in Tone.values:
        raise ApplicationError(f"tone must be one of: {', '.join(Tone.values)}.")
    return {k: v for k, v in preferences.items() if v is not None}


@transaction.atomic
def session_create(
    *,
    user: User,
    session_type: str,
    preferences: dict[str, Any] | None = None,
    accept_language: str = "",
) -> ChatSession:
    """Start a session; it gets the user's default preferences, the last session's summary and
    the crisis catalogue of the user's region (their choice, else ``accept_language``'s)."""
    if session_type not in SessionType.values:
        raise ApplicationError(
            f"Unknown session type {session_type!r}; choose one of: "
            f"{', '.join(SessionType.values)}."
        )
    merged = {**chat_preferences_get(user=user), **_clean_preferences(preferences)}
    session = ChatSession.objects.create(
        user=user,
        session_type=session_type,
        flow_step=flow_first_step(session_type),
        preferences=merged,
        locale=crisis_locale_for(user=user, accept_language=accept_language),
        previous_summary=previous_summary_for_user(user=user),
    )
    logger.info("session created session_id=%s type=%s", session.pk, session_type)
    return session


@transaction.atomic
def chat_preferences_update(
    *,
    user: User,
    session_length: str | None = None,
    tone: str | None = None,
    crisis_region: str | None = None,
    session: ChatSession | None = None,
) -> dict[str, Any]:
    """Change the user's defaults (and, when given, the open session's own copy).
    ``crisis_region`` picks whose crisis lines are shown ("" = from the browser's region); a
    region the catalogue does not cover is refused."""
    changes = _clean_preferences({"session_length": session_length, "tone": tone})
    region = None
    if crisis_region is not None:
        region = region_normalise(crisis_region)
        if crisis_region.strip() and region not in crisis_locales_available():
            raise ApplicationError("Choose a country from the list for the crisis lines.")
    prefs, _ = ChatPreferences.objects.get_or_create(user=user)
    for key, value in changes.items():
        setattr(prefs, key, value)
    if region is not None:
        prefs.crisis_region = region
    prefs.save()
    if session is not None:
        if session.user_id != user.pk:
            raise ApplicationError("No such session.", status_code=404)
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == ChatSession.Status.OPEN:
            session.preferences = {**session.preferences, **changes}
            if region:
                session.locale = region
            session.save(update_fields=["preferences", "locale"])
    return prefs.as_dict()


@transaction.atomic
def session_end(*, session: ChatSession) -> ChatSession:
    """End the session and store its summary. Ending an ended session changes nothing."""
    session = ChatSession.objects.select_for_update().get(pk=session.pk)
    if session.status == ChatSession.Status.ENDED:
        return session
    session.summary = session_summary_build(session=session)
    session.status = ChatSession.Status.ENDED
    session.ended_at = timezone.now()
    session.save(update_fields=["summary", "status", "ended_at"])
    logger.info("session ended session_id=%s", session.pk)
    return session


@transaction.atomic
def session_rate(*, session: ChatSession, stars: int, comment: str = "") -> ChatSession:
    """The user's 1-5 star rating (and a comment) of an ended session; re-rating replaces it."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ApplicationError("stars must be a whole number from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ApplicationError("comment must be at most 2,000 characters.")
    session = ChatSession.objects.select_for_update().get(pk=session.pk)
    if session.status != ChatSession.Status.ENDED:
        raise ApplicationError("End the session before rating it.")
    session.rating_stars = stars
    session.rating_comment = comment
    session.rated_at = timezone.now()
    session.save(update_fields=["rating_stars", "rating_comment", "rated_at"])
    return session


@transaction.atomic
def session_summary_update(*, session: ChatSession, text: str) -> ChatSession:
    """The user's correction of their ended session's summary; blank text deletes it. The next
    session receives what is stored here (``previous_summary``)."""
    session = ChatSession.objects.select_for_update().get(pk=session.pk)
    if session.status != ChatSession.Status.ENDED:
        raise ApplicationError("A summary can be changed once the session has ended.")
    text = " ".join((text or "").split())
    if len(text) > SUMMARY_MAX_CHARS:
        raise ApplicationError(f"Please keep the summary under {SUMMARY_MAX_CHARS} characters.")
    session.summary = text
    session.save(update_fields=["summary"])
    logger.info("session summary %s session_id=%s", "edited" if text else "deleted", session.pk)
    return session
