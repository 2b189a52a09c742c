"""Sessions: start, preferences, end (with the summary the next session receives), rating."""

from __future__ import annotations

import logging
import re
from collections import Counter

from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from conversations.catalogue import region_normalise
from conversations.flows import FLOWS, STEP_LABELS, flow_first_step
from conversations.models import (
    ChatPreferences,
    ChatSession,
    Message,
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

logger = logging.getLogger(__name__)

SUMMARY_MAX_CHARS = 600
_STOPWORDS = frozenset(
    " ".join(
        (
            "a about above after again against all also am an and any are aren't as at be",
            "because been before being below between both but by can can't cannot could",
            "couldn't did didn't do does doesn't doing don't down during each even ever every",
            "feel feeling felt few for from further get gets getting go going gonna got had",
            "hadn't has hasn't have haven't having he he'd he'll he's her here here's hers",
            "herself him himself his how how's i i'd i'll i'm i've if in into is isn't it",
            "it's its itself just know let's like lot make me more most much mustn't my",
            "myself no nor not now of off on once only or other ought our ours ourselves out",
            "over own really right said same say says she she'd she'll she's should shouldn't",
            "so some something still such than that that's the their theirs them themselves",
            "then there there's these they they'd they'll they're they've thing things think",
            "this those though through to too today under until up very want was wasn't way",
            "we we'd we'll we're we've well were weren't what what's when when's where",
            "where's which while who who's whom why why's will with won't would wouldn't yeah",
            "yes you you'd you'll you're you've your yours yourself yourselves okay ok maybe",
            "kind sort time really always never",
        )
    ).split()
)


def _clean_preferences(preferences: dict | None) -> dict:
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
    *, user, session_type: str, preferences: dict | None = None, accept_language: str = ""
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
    user,
    session_length: str | None = None,
    tone: str | None = None,
    crisis_region: str | None = None,
    session=None,
) -> dict:
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


def _themes(texts: list[str], limit: int = 3) -> list[str]:
    words = Counter()
    for text in texts:
        for word in re.findall(r"[a-zA-Z][a-zA-Z']{3,}", text.lower()):
            if word not in _STOPWORDS:
                words[word] += 1
    return [word for word, _ in words.most_common(limit)]


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return (match.group(1) if match else text.strip())[:200]


def session_summary_build(*, session: ChatSession) -> str:
    """A short, factual summary of a session (no model involved), for the next session."""
    rows = list(
        session.messages.order_by("created_at", "id").values_list("role", "text", "flow_step")
    )
    user_texts = [text for role, text, _ in rows if role == Message.Role.USER]
    if not user_texts:
        return ""
    label = SessionType(session.session_type).label.lower()
    exchanges = len(user_texts)
    parts = [f"Last time: a {label} ({exchanges} message{'s' if exchanges != 1 else ''})."]
    themes = _themes(user_texts)
    if themes:
        parts.append(f"Themes: {', '.join(themes)}.")
    steps = [step for role, _, step in rows if role == Message.Role.ASSISTANT and step]
    flow = FLOWS.get(session.session_type, ())
    reached = max((s for s in steps if s in flow), key=flow.index, default="")
    if reached and session.session_type == SessionType.GENTLE_DEEP:
        parts.append(f"Reached: {STEP_LABELS.get(reached, reached).lower()}.")
    experiment = next(
        (
            text
            for role, text, step in reversed(rows)
            if role == "assistant" and step == "experiment"
        ),
        "",
    )
    if experiment:
        parts.append(f"Experiment offered: \u201c{_first_sentence(experiment)}\u201d")
    if session.safety_mode or session.max_risk_level == "high":
        parts.append("A safety check-in happened and crisis resources were shared.")
    return " ".join(parts)[:SUMMARY_MAX_CHARS]


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
