"""Text preparation shared by training and serving, so both see messages the same way.

The safety model scores a message in several *segments* and keeps the most severe one:
the message alone, the message with the last few user turns (risk spread over turns), and,
for long messages, windows of a few sentences (so one risk sentence is not diluted by a page
of everyday text).
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
MAX_SEGMENTS = 48
MAX_CHARS = 8000

_SENTENCE_END = re.compile(r"(?<=[.!?¡¿…])\s+|\n+")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """NFKC, collapse whitespace, cap length. Case is kept (the models lowercase themselves)."""
    text = unicodedata.normalize("NFKC", text or "")
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]


def with_context(text: str, history: Sequence[str] = ()) -> str:
    """The message first, then the last user turns (most recent first).

    Message first so that a transformer truncating to a short length keeps the message itself.
    """
    turns = [clean(h) for h in list(history)[-CONTEXT_TURNS:] if clean(h)]
    if not turns:
        return clean(text)
    return clean(text) + CONTEXT_SEPARATOR + HISTORY_JOINER.join(reversed(turns))


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
    """Consecutive sentences grouped into windows of about ``WINDOW_WORDS`` words."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    out: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences:
        words = len(sentence.split())
        if current and count + words > WINDOW_WORDS:
            out.append(" ".join(current))
            current, count = [], 0
        if words > WINDOW_WORDS * 2:  # a run-on "sentence": cut it by words
            tokens = sentence.split()
            for start in range(0, len(tokens), WINDOW_WORDS):
                out.append(" ".join(tokens[start : start + WINDOW_WORDS]))
            continue
        current.append(sentence)
        count += words
    if current:
        out.append(" ".join(current))
    return out


def segments(text: str, history: Sequence[str] = ()) -> list[str]:
    """All segments a message is scored in (see the module docstring)."""
    message = clean(text)
    segs = [message]
    if history and any(clean(h) for h in history):
        segs.append(with_context(message, history))
    if len(message.split()) > LONG_MESSAGE_WORDS:
        parts = windows(message)
        if len(parts) > 1:
            segs.extend(parts)
    return segs[:MAX_SEGMENTS]
