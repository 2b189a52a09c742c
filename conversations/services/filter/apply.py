"""Applying the response filter to one reply (the order of the steps is in the package's
docstring): sentence rules, contact rules, validation first, the safety question, the final
guard."""

from __future__ import annotations

import re
from collections.abc import Iterable
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
from conversations.services.filter.rules import RULESET_VERSION, SHIPPED_RULE_SET, RuleSet

VALIDATION_SENTENCE = "That sounds really hard, and it makes sense that you feel this way."
# The validation put first in a reply that did not open with one; a session gets each at most
# once, in this order (``used_validations``), so no sentence repeats in it.
VALIDATION_SENTENCES = (
    VALIDATION_SENTENCE,
    "That sounds like a lot to carry, and your feelings make sense.",
    "I can hear how much this is weighing on you, and it's understandable to feel this way.",
    "What you're going through sounds hard, and it makes sense to feel the way you do.",
    "That sounds painful, and it's okay to feel what you're feeling.",
    "It makes sense that this is affecting you so much.",
)
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


def violations(text: str, catalogue: Catalogue, rule_set: RuleSet = SHIPPED_RULE_SET) -> list[str]:
    """Every rule id ``text`` breaks, checked over the whole text (used by the final guard)."""
    found = []
    if rule_set.any_rule_rx.search(text):
        found = [rule.id for rule in rule_set.rules if rule.matches(text)]
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
    rule_set: RuleSet = SHIPPED_RULE_SET,
    safety_answered: bool = False,
    used_validations: tuple[str, ...] = (),
    opens_validated: bool = False,
) -> FilterResult:
    """Return the text a user may read, and the rule hits that changed it.

    ``safety_answered``: the user already said they are safe after a safety question in this
    session, so a medium-risk reply is not made to ask again (nobody is asked twice; a high
    one always asks). ``used_validations``: the ``VALIDATION_SENTENCES`` the session's earlier
    replies hold (``validations_used``), never put first again. ``opens_validated``: the reply
    opens with a clinician-approved validation (the composed responder's validation part, in
    words of its own that the cue list need not know): no stock validation is put before it.

    ``rule_set`` is the sentence rules in force (the turn's release's, ``conversations.services.
    release_contents``; the shipped file's by default).

    The user's words matter only through whether they express distress, so the result is a
    function of (reply, catalogue, risk level, distress, safety prompt) and is remembered for
    the last ``FILTER_CACHE_SIZE`` such inputs: approved and fixed replies repeat, and a
    repeated reply is filtered once. Results are immutable.
    """
    distressed = risk_level in ("low", "medium", "high") or user_expresses_distress(user_text)
    return _filter_remembered(
        text or "",
        catalogue,
        risk_level,
        distressed,
        safety_prompt_text or "",
        rule_set,
        safety_answered,
        used_validations,
        opens_validated,
    )


def validations_used(earlier_replies: Iterable[str]) -> tuple[str, ...]:
    """The ``VALIDATION_SENTENCES`` that ``earlier_replies`` (a session's) already hold."""
    said = " ".join(earlier_replies)
    return tuple(sentence for sentence in VALIDATION_SENTENCES if sentence in said)


FILTER_CACHE_SIZE = 4096


def _filter(
    text: str,
    catalogue: Catalogue,
    risk_level: str,
    distressed: bool,
    safety_prompt_text: str,
    rule_set: RuleSet,
    safety_answered: bool = False,
    used_validations: tuple[str, ...] = (),
    opens_validated: bool = False,
) -> FilterResult:
    version = rule_set.version
    hits: list[FilterHit] = []
    needs_resources = False
    text = text.strip()

    if len(text) > rule_set.max_reply_chars:
        cut = text[: rule_set.max_reply_chars]
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        text = cut[: end + 1] if end > 0 else cut
        hits.append(FilterHit("RF-LEN-01", "too_long", "truncated", version))

    check_rules = bool(rule_set.any_rule_rx.search(text))
    check_contacts = may_have_contacts(text)
    parts = _split_sentences(text)
    sentences, separators = parts[0::2], [*parts[1::2], ""]
    kept: list[tuple[str, str]] = []
    for sentence, separator in zip(sentences, separators, strict=True):
        if not sentence.strip():
            continue
        replacement = None
        if check_rules:
            for rule in rule_set.rules:
                if rule.matches(sentence):
                    hits.append(FilterHit(rule.id, rule.category, "replaced", version))
                    replacement = replacement or rule.replacement
        contact_rules = contact_violations(sentence, catalogue) if check_contacts else []
        for rule_id in contact_rules:
            hits.append(FilterHit(rule_id, CONTACT_CATEGORIES[rule_id], "replaced", version))
        if contact_rules and replacement is None:
            replacement = CONTACT_POINTER
        if contact_rules:
            needs_resources = True
        if replacement is not None and kept and kept[-1][0] == replacement:
            continue  # one safe sentence is enough for several replaced in a row
        kept.append((replacement or sentence, separator or " "))
    text = "".join(sentence + separator for sentence, separator in kept).strip()

    if distressed and text and not opens_validated and not opening_validates(text):
        unused = [v for v in VALIDATION_SENTENCES if v not in used_validations]
        text = f"{(unused or [VALIDATION_SENTENCE])[0]} {text}"
        hits.append(FilterHit("RF-VAL-01", "validation_first", "added", version))
    must_ask = risk_level == "high" or (risk_level == "medium" and not safety_answered)
    if must_ask and not text_has_safety_question(text):
        prompt = (safety_prompt_text or "").strip() or SAFE_FALLBACK_WITH_CHECK
        text = f"{text} {prompt}".strip()
        hits.append(FilterHit("RF-SAFE-01", "safety_prompt", "added", version))

    if not text or violations(text, catalogue, rule_set):
        needs_check = risk_level in ("medium", "high")
        text = SAFE_FALLBACK_WITH_CHECK if needs_check else SAFE_FALLBACK
        hits.append(FilterHit("RF-GUARD-01", "guard", "fallback", version))

    return FilterResult(
        text=text,
        hits=tuple(hits),
        version=version,
        needs_resources=needs_resources,
    )


# Remembered apart from its definition, so that the steps stay a plain function (mutation
# testing, docs/codebase-figures.md, leaves decorated functions unmutated).
_filter_remembered = lru_cache(maxsize=FILTER_CACHE_SIZE)(_filter)
