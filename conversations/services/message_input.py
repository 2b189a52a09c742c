"""The edges of a chat turn: what a user's message and its idempotency key may be.

Every path that takes a message (the API, the no-JavaScript form, the benchmark floor) calls
``message_text_clean`` before anything is stored, so a bad message is a clear 400 and never a
500 or a silently shortened message:

- over ``MAX_MESSAGE_CHARS`` (after trimming surrounding whitespace): refused with the limit and
  the length, never truncated;
- control characters (Unicode category Cc: NUL, which PostgreSQL cannot store in text, escape,
  form feed...) other than tab, newline and carriage return: refused;
- lone surrogates (category Cs: only reachable through JSON escapes, not encodable as UTF-8):
  refused.

The character rules are the application's one rule for text from outside
(``ari_review.validation``), worded here for a message.
"""

from __future__ import annotations

from ari_review.api.errors import ApplicationError
from ari_review.validation import text_problem

MAX_MESSAGE_CHARS = 4000
MAX_IDEMPOTENCY_KEY_CHARS = 100
_SUBJECT = "Message text"


def message_too_long_message(*, length: int) -> str:
    """The one wording of the length error, shared by the API serializer and the service."""
    return (
        f"Message text must be at most {MAX_MESSAGE_CHARS:,} characters; this one is "
        f"{length:,}. Please shorten it or split it into two messages."
    )


def message_text_problem(text: str) -> str | None:
    """Why ``text`` (as sent, untrimmed) cannot be stored, or None when its characters are fine
    (the one rule of every edge: ``ari_review.validation``)."""
    return text_problem(text, subject=_SUBJECT)


def message_text_clean(text: object) -> str:
    """The message as stored (surrounding whitespace trimmed), or ApplicationError (a 400)."""
    if not isinstance(text, str):
        raise ApplicationError("Message text must be a string.")
    # Characters first, on the text as sent: str.strip() would quietly drop trailing
    # control characters that are also whitespace (form feed, \x1c-\x1f, \x85).
    problem = message_text_problem(text)
    if problem:
        raise ApplicationError(problem)
    cleaned = text.strip()
    if not cleaned:
        raise ApplicationError("Message text must not be empty or only whitespace.")
    if len(cleaned) > MAX_MESSAGE_CHARS:
        raise ApplicationError(message_too_long_message(length=len(cleaned)))
    return cleaned


def idempotency_key_clean(key: str | None) -> str:
    key = (key or "").strip()
    if problem := text_problem(key, subject="Idempotency-Key"):
        raise ApplicationError(problem)
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise ApplicationError(
            f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters."
        )
    return key
