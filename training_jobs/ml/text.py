"""Text preparation shared by training and serving, so both see messages the same way.

The safety model scores a message in several *segments* and keeps the most severe one:
the message alone, the message with the last few user turns (risk spread over turns), and,
for long messages, each sentence on its own (so one risk sentence is not diluted by a page
of everyday text). A window is only a part of what the person wrote, and a long message has
many of them, so a window must be more confident to count (``predictors.WINDOW_MIN_SCORE``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CONTEXT_TURNS = 3
CONTEXT_SEPARATOR = " ||| "
HISTORY_JOINER = " | "
LONG_MESSAGE_WORDS = 40
WINDOW_WORDS = 30
MIN_WINDOW_WORDS = 3
MAX_SEGMENTS = 96
MAX_CHARS = 8000

_SENTENCE_END = re.compile(r"(?<=[.!?¡¿…])\s+|\n+")
_SPACE = re.compile(r"\s+")


# "Last time" is how people say goodbye ("one last time", "for the last time") and also how a
# returning user points at the previous conversation ("since last time", "something from last
# time", "last time we talked"). In the training data it only ever appears in goodbyes, so the
# models read every "last time" as one. The second kind, and only it, is rewritten to words that
# carry no goodbye; whatever else the message says is scored as written. "Since the last time I
# tried" and "since last time I tried" may point at an event rather than the conversation, and
# are left alone ("since last time I've ..." is about the time since the conversation).
_SESSION_REFERENCE = re.compile(
    r"\b(since|from)\s+last\s+time\b(?!\s+i(?:\s|$))"
    r"|\b(?:the\s+)?last\s+time(?=\s+(?:we|i)\s+(?:talked|spoke|chatted|met|wrote)\b)",
    re.IGNORECASE,
)


def _session_reference(match: re.Match) -> str:
    preposition = match.group(1)
    return f"{preposition} our previous chat" if preposition else "when"


def clean(text: str) -> str:
    """NFKC, collapse whitespace, cap length, neutral words for a reference to the previous
    conversation (see ``_SESSION_REFERENCE``). Case is kept (the models lowercase themselves)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _SPACE.sub(" ", text).strip()[:MAX_CHARS]
    return _SESSION_REFERENCE.sub(_session_reference, text)


def with_context(text: str, history: Sequence[str] = ()) -> str:
    """The message first, then the last user turns (most recent first).

    Message first so that a transformer truncating to a short length keeps the message itself.
    """
    return _with_turns(clean(text), _context_turns(history))


def _context_turns(history: Sequence[str]) -> list[str]:
    """The last ``CONTEXT_TURNS`` user turns, cleaned, empty ones left out."""
    return [turn for turn in (clean(h) for h in list(history)[-CONTEXT_TURNS:]) if turn]


def _with_turns(message: str, turns: list[str]) -> str:
    if not turns:
        return message
    return message + CONTEXT_SEPARATOR + HISTORY_JOINER.join(reversed(turns))


def split_context(text: str) -> tuple[str, str | None]:
    """Inverse of :func:`with_context`: ``(message, history or None)``."""
    if CONTEXT_SEPARATOR in text:
        message, history = text.split(CONTEXT_SEPARATOR, 1)
        return message, history
    return text, None


def training_text(row: dict) -> str:
    """The text a training row is fitted on: with its history when it has one."""
    return with_context(row["text"], row.get("history") or ())


def windows(text: str) -> list[str]:
    """The sentences of a long message (very long run-on sentences cut every ``WINDOW_WORDS``)."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()):
        tokens = sentence.split()
        if len(tokens) < MIN_WINDOW_WORDS:
            continue
        if len(tokens) > WINDOW_WORDS * 2:
            out.extend(
                " ".join(tokens[i : i + WINDOW_WORDS]) for i in range(0, len(tokens), WINDOW_WORDS)
            )
        else:
            out.append(sentence)
    return out


def segment_plan(text: str, history: Sequence[str] = ()) -> list[tuple[str, str]]:
    """``(kind, text)`` of every segment a message is scored in: ``message``, ``context``
    (with the last user turns) and, for long messages, ``window`` parts."""
    message = clean(text)
    plan = [("message", message)]
    turns = _context_turns(history)
    if turns:
        plan.append(("context", _with_turns(message, turns)))
    if len(message.split()) > LONG_MESSAGE_WORDS:
        parts = windows(message)
        if len(parts) > 1:
            plan.extend(("window", part) for part in parts)
    return plan[:MAX_SEGMENTS]


def segments(text: str, history: Sequence[str] = ()) -> list[str]:
    """The texts of :func:`segment_plan`."""
    return [segment for _, segment in segment_plan(text, history)]
