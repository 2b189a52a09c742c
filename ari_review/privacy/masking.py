"""What clinicians and exports may see of a user: a pseudonym instead of the account, and
message text with personal details masked: names (the user's and third parties'), addresses,
places, dates of birth, ages, schools and workplaces, e-mails, phone numbers and URLs, in
English, Spanish, German and French. docs/privacy-masking.md says how and how well."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from ari_review.privacy.language import language_detect
from ari_review.privacy.ner import NerUnavailable, ner_spans
from ari_review.privacy.patterns import fallback_spans, pattern_spans
from ari_review.privacy.spans import PLACEHOLDERS, PiiSpan, spans_apply, spans_merge

EMAIL_MASK = PLACEHOLDERS["email"]
PHONE_MASK = PLACEHOLDERS["phone"]
URL_MASK = PLACEHOLDERS["url"]
NAME_MASK = PLACEHOLDERS["name"]
# The version of what ``mask_text`` masks. Masked texts stored with an older one
# (``Message.text_masked_version``) are masked again when next read: bump it whenever the
# patterns, the NER layer or the placeholders change what a text masks to.
MASKING_VERSION = 1


def pii_spans(text: str) -> list[PiiSpan]:
    """The personal details in ``text``, merged so none overlap. Patterns always run; the NER
    layer adds what no phrase announces. When that layer is down or fails on this text, every
    capitalised word that is not a common sentence opener is masked instead (conservative:
    over-masks rather than leaks)."""
    language = language_detect(text)
    spans = pattern_spans(text, language)
    try:
        spans += ner_spans(text, language)
    except NerUnavailable:
        spans += fallback_spans(text)
    return spans_merge(spans)


def mask_text(text: str | None) -> str:
    """``text`` with each personal detail replaced by its placeholder ("[name]", "[email]")."""
    if not text:
        return text or ""
    return spans_apply(text, pii_spans(text))


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
