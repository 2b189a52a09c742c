"""What clinicians and exports may see of a user: a pseudonym instead of the account, and
message text with emails, phone numbers, URLs and self-introduced names masked."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
URL_MASK = "[url]"
NAME_MASK = "[name]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|edu|gov|io|co|uk|de|es|fr|us|info|me|app|ly|gg|ai|tv|biz|ca|au)"
    r"\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# A run of digits with the usual separators; masked when it holds 7 or more digits, so the
# catalogue's short codes (988, 741741) stay readable.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/]{4,}\d(?![\w])")
_NAME_INTRO = re.compile(
    r"\b(my name is|my name's|my names|name's|i am called|i'm called|im called|"
    r"they call me|people call me|you can call me|call me|i go by)"
    r"(\s+)([^\W\d_][\w'\-]*)((?:\s+(?-i:[A-Z])[\w'\-]*)?)",
    re.IGNORECASE | re.UNICODE,
)


def _phone_replace(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7:
        return text
    trailing = len(text) - len(text.rstrip())
    return PHONE_MASK + text[len(text) - trailing :] if trailing else PHONE_MASK


# Words that follow "call me" etc. without being a name ("call me on ...", "call me back").
_NOT_NAMES = frozenset(
    {
        "a",
        "an",
        "the",
        "on",
        "at",
        "in",
        "to",
        "if",
        "when",
        "whenever",
        "back",
        "later",
        "anytime",
        "any",
        "tomorrow",
        "today",
        "tonight",
        "now",
        "again",
        "please",
        "maybe",
        "after",
        "before",
        "not",
        "so",
        "just",
        "really",
        "very",
        "and",
        "or",
        "but",
        "because",
        "what",
        "whatever",
        "is",
        "was",
    }
)


def _name_replace(match: re.Match) -> str:
    if match.group(3).lower() in _NOT_NAMES:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{NAME_MASK}"


def mask_text(text: str | None) -> str:
    """Mask emails, URLs, phone numbers and names after phrases like "my name is"."""
    if not text:
        return text or ""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _URL.sub(URL_MASK, text)
    text = _PHONE.sub(_phone_replace, text)
    text = _NAME_INTRO.sub(_name_replace, text)
    return text


def mask_messages(messages: list[dict]) -> list[dict]:
    """Mask the ``content`` of every message in the messages format."""
    return [{**m, "content": mask_text(m.get("content", ""))} for m in messages]


def pseudonym(user_id: int | None) -> str:
    """A short, stable pseudonymous id for a user (HMAC of the id with SECRET_KEY)."""
    if user_id is None:
        return "u-unknown"
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"ari-user:{user_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"u-{digest[:10]}"
