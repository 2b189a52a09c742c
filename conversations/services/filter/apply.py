"""Applying the response filter to one reply (the order of the steps is in the package's
docstring): sentence rules, contact rules, validation first, the safety question, the final
guard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from conversations.catalogue import Catalogue
from conversations.services.filter.contacts import (
    CONTACT_CATEGORIES,
    CONTACT_POINTER,
    contact_violations,
    may_have_contacts,
)
from conversations.services.filter.cues import (
    is_greeting,
    text_has_safety_question,
    text_validates,
    user_expresses_distress,
)
from conversations.services.filter.rules import (
    ANY_SENTENCE_RULE_RX,
    MAX_REPLY_CHARS,
    RULESET_VERSION,
    SENTENCE_RULES,
)

VALIDATION_SENTENCE = "That sounds really hard, and it makes sense that you feel this way."
SAFE_FALLBACK = "I hear you, and I'm here with you. Would you like to tell me a little more?"
SAFE_FALLBACK_WITH_CHECK = (
    "I hear you, and I'm here with you. I want to gently check in: are you safe right now?"
)
_SENTENCE_SPLIT_RX = re.compile(r"((?<=[.!?…])[\"')\]]*\s+|\n+)")


@dataclass(frozen=True)
class FilterHit:
    rule: str
    category: str
    action: str  # replaced | added | truncated | fallback
    version: str = RULESET_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "action": self.action,
            "version": self.version,
        }


@dataclass(frozen=True)
class FilterResult:
    text: str
    hits: tuple[FilterHit, ...] = ()
    version: str = RULESET_VERSION
    # True when a replaced sentence points the user at the crisis resources.
    needs_resources: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.hits)


def violations(text: str, catalogue: Catalogue) -> list[str]:
    """Every rule id ``text`` breaks, checked over the whole text (used by the final guard)."""
    found = []
    if ANY_SENTENCE_RULE_RX.search(text):
        found = [rule.id for rule in SENTENCE_RULES if rule.matches(text)]
    if may_have_contacts(text):
        found.extend(contact_violations(text, catalogue))
    return found


def _split_sentences(text: str) -> list[str]:
    """Sentences and the whitespace between them, alternating: [s0, sep0, s1, sep1, s2...]."""
    return _SENTENCE_SPLIT_RX.split(text)


def opening_validates(text: str) -> bool:
    """Does the reply open by validating: its first sentence, or the one after a short
    greeting ("Hi, welcome.")?"""
    sentences = [s for s in _split_sentences(text)[0::2] if s.strip()]
    if not sentences:
        return False
    if text_validates(sentences[0]):
        return True
    return is_greeting(sentences[0]) and len(sentences) > 1 and text_validates(sentences[1])


def response_filter_apply(
    *,
    text: str,
    catalogue: Catalogue,
    risk_level: str = "none",
    user_text: str = "",
    safety_prompt_text: str = "",
) -> FilterResult:
    """Return the text a user may read, and the rule hits that changed it.

    The user's words matter only through whether they express distress, so the result is a
    function of (reply, catalogue, risk level, distress, safety prompt) and is remembered for
    the last ``FILTER_CACHE_SIZE`` such inputs: approved and fixed replies repeat, and a
    repeated reply is filtered once. Results are immutable.
    """
    distressed = risk_level in ("low", "medium", "high") or user_expresses_distress(user_text)
    return _filter_remembered(
        text or "", catalogue, risk_level, distressed, safety_prompt_text or ""
    )


FILTER_CACHE_SIZE = 4096


def _filter(
    text: str, catalogue: Catalogue, risk_level: str, distressed: bool, safety_prompt_text: str
) -> FilterResult:
    hits: list[FilterHit] = []
    needs_resources = False
    text = text.strip()

    if len(text) > MAX_REPLY_CHARS:
        cut = text[:MAX_REPLY_CHARS]
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        text = cut[: end + 1] if end > 0 else cut
        hits.append(FilterHit("RF-LEN-01", "too_long", "truncated"))

    check_rules = bool(ANY_SENTENCE_RULE_RX.search(text))
    check_contacts = may_have_contacts(text)
    parts = _split_sentences(text)
    sentences, separators = parts[0::2], [*parts[1::2], ""]
    kept: list[tuple[str, str]] = []
    for sentence, separator in zip(sentences, separators, strict=True):
        if not sentence.strip():
            continue
        replacement = None
        if check_rules:
            for rule in SENTENCE_RULES:
                if rule.matches(sentence):
                    hits.append(FilterHit(rule.id, rule.category, "replaced"))
                    replacement = replacement or rule.replacement
        contact_rules = contact_violations(sentence, catalogue) if check_contacts else []
        for rule_id in contact_rules:
            hits.append(FilterHit(rule_id, CONTACT_CATEGORIES[rule_id], "replaced"))
        if contact_rules and replacement is None:
            replacement = CONTACT_POINTER
        if contact_rules:
            needs_resources = True
        if replacement is not None and kept and kept[-1][0] == replacement:
            continue  # one safe sentence is enough for several replaced in a row
        kept.append((replacement or sentence, separator or " "))
    text = "".join(sentence + separator for sentence, separator in kept).strip()

    if distressed and text and not opening_validates(text):
        text = f"{VALIDATION_SENTENCE} {text}"
        hits.append(FilterHit("RF-VAL-01", "validation_first", "added"))
    if risk_level in ("medium", "high") and not text_has_safety_question(text):
        prompt = (safety_prompt_text or "").strip() or SAFE_FALLBACK_WITH_CHECK
        text = f"{text} {prompt}".strip()
        hits.append(FilterHit("RF-SAFE-01", "safety_prompt", "added"))

    if not text or violations(text, catalogue):
        needs_check = risk_level in ("medium", "high")
        text = SAFE_FALLBACK_WITH_CHECK if needs_check else SAFE_FALLBACK
        hits.append(FilterHit("RF-GUARD-01", "guard", "fallback"))

    return FilterResult(
        text=text,
        hits=tuple(hits),
        needs_resources=needs_resources,
    )


# Remembered apart from its definition, so that the steps stay a plain function (mutation
# testing, docs/codebase-figures.md, leaves decorated functions unmutated).
_filter_remembered = lru_cache(maxsize=FILTER_CACHE_SIZE)(_filter)
