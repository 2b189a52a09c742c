"""The end-of-session summary: two or three sentences a person would say, written from fixed,
reviewed templates (no model; never a keyword list, never the user's own words). Shown to the
user, who may correct or delete it, and given to their next session as ``previous_summary``.

What fills the templates is derived, not quoted: the topic's noun ("work", "your family",
``conversations/understanding/topics.yaml``), the coaching feeling ("anxious",
``feelings.yaml``), how far a gentle deep dive went, the experiment Ari offered (Ari's words),
and whether a safety check-in happened.
"""

from __future__ import annotations

import re
from collections import Counter

from conversations.flows import FLOWS
from conversations.models import ChatSession, Message, SessionType
from conversations.understanding.message import understand

SUMMARY_MAX_CHARS = 600
# How many of the user's messages are read for the topic and the feeling.
_READ_MESSAGES = 4

# The approved templates. Sentence 1: what the session was about.
_OPENING_WITH_TOPIC = "We talked about {topic}"
_OPENING = {
    SessionType.CHECK_IN: "We did a short check-in on how you were arriving",
    SessionType.GENTLE_DEEP: "We talked about what has been on your mind",
    SessionType.MICRO_PRACTICE: "We took a short pause together",
}
_FEELING = ", and you mentioned {feeling}."
_FEELING_WORDS = {"grieving": "grief", "numb": "feeling numb"}
# Sentence 2: how far it went (a gentle deep dive), or the practice.
_REACHED = {
    "validate": "We went at your pace and stayed with how it feels.",
    "consent": "We went at your pace and stayed with how it feels.",
    "story": "We looked at a recent moment when it showed up.",
    "root_belief": "We looked at the belief underneath it.",
    "reframe": "We found a kinder way to see that belief.",
    "close": "We found a kinder way to see it.",
}
_EXPERIMENT = "We ended with one small experiment: \u201c{experiment}\u201d"
_PRACTICE = "We did a short breathing or grounding practice together."
# Sentence 3: safety.
_SAFETY = (
    "We also checked in about your safety, and the helplines are there whenever you need them."
)


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return (match.group(1) if match else text.strip())[:200]


def _topic_and_feeling(user_texts: list[str]) -> tuple[str, str]:
    topic = ""
    feelings: Counter[str] = Counter()
    for text in user_texts[:_READ_MESSAGES]:
        understood = understand(text)
        if not topic and understood.topic:
            topic = understood.topic[1]
        if understood.feeling and understood.feeling != "mixed":
            feelings[understood.feeling] += 1
    feeling = feelings.most_common(1)[0][0] if feelings else ""
    return topic, feeling


def session_summary_build(*, session: ChatSession) -> str:
    """Two or three sentences about the session ("" when the user wrote nothing)."""
    rows = list(
        session.messages.order_by("created_at", "id").values_list("role", "text", "flow_step")
    )
    user_texts = [text for role, text, _ in rows if role == Message.Role.USER]
    if not user_texts:
        return ""
    session_type = SessionType(session.session_type)
    topic, feeling = _topic_and_feeling(user_texts)
    opening = _OPENING_WITH_TOPIC.format(topic=topic) if topic else _OPENING[session_type]
    if feeling:
        opening += _FEELING.format(feeling=_FEELING_WORDS.get(feeling, f"feeling {feeling}"))
    else:
        opening += "."
    sentences = [opening]

    steps = [step for role, _, step in rows if role == Message.Role.ASSISTANT and step]
    flow = FLOWS.get(session.session_type, ())
    reached = max((s for s in steps if s in flow), key=flow.index, default="")
    experiment = next(
        (
            text
            for role, text, step in reversed(rows)
            if role == "assistant" and step == "experiment"
        ),
        "",
    )
    if experiment:
        sentences.append(_EXPERIMENT.format(experiment=_first_sentence(experiment)))
    elif session_type == SessionType.GENTLE_DEEP and reached in _REACHED:
        sentences.append(_REACHED[reached])
    elif session_type == SessionType.MICRO_PRACTICE and reached in ("practice", "close"):
        sentences.append(_PRACTICE)
    if session.safety_mode or session.max_risk_level == "high":
        sentences.append(_SAFETY)
    return " ".join(sentences)[:SUMMARY_MAX_CHARS]
