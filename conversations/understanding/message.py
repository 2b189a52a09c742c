"""What Ari understands of one user message, offline: the feeling, the user's own key phrase
(in the second person), the topic, how it answers Ari's last question, and what it asks of Ari
(advice, to be listened to, whether the feeling is normal). Situations it discloses are read
apart, over the whole session (``backends/generation/composed.py: unheard_disclosure``).

One function for every responder: the composed backend builds its reply from it, and a
model-based generator (``openai``, ``transformers``) receives it in its prompt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from conversations.understanding.answers import answer_kind
from conversations.understanding.phrases import key_phrase, topic_of
from conversations.understanding.requests import request_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Understanding:
    feeling: str  # a coaching feeling (``feelings.yaml``), "mixed" when unclear
    feeling_source: str  # model | lexicon | none | error
    phrase: str  # the user's key clause turned to the second person; "" when none fits
    topic: tuple[str, str] | None  # (topic id, the words that named it)
    answer: str  # to Ari's last question: yes | no | unsure | content; "" if Ari asked none
    # what the message asks of Ari: resources | advice | vent | normal; "" if nothing
    request: str = ""


def _feeling(text: str, history: tuple[str, ...]) -> tuple[str, str]:
    """(coaching feeling, where it came from)."""
    try:
        from conversations.understanding.emotions import feeling_of
    except ImportError:  # the emotion module is optional
        return "mixed", "none"
    try:
        found = feeling_of(text, history=history)
    except Exception:  # an unreadable artifact must not cost the reply
        logger.exception("emotion model failed; replying for mixed feelings")
        return "mixed", "error"
    return found.name, getattr(found, "source", "model")


def understand(user_text: str, history: tuple[tuple[str, str], ...] = ()) -> Understanding:
    """``history``: the session's (role, text) messages before ``user_text``, oldest first."""
    user_turns = tuple(text for role, text in history if role == "user")
    feeling, source = _feeling(user_text, user_turns[-3:])
    last_reply = next((text for role, text in reversed(history) if role == "assistant"), "")
    asked = last_reply.rstrip().endswith("?")
    return Understanding(
        feeling=feeling,
        feeling_source=source,
        phrase=key_phrase(user_text) or "",
        topic=topic_of(user_text),
        answer=str(answer_kind(user_text)) if asked else "",
        request=str(request_of(user_text, last_reply) or ""),
    )
