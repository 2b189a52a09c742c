"""The response-filter rule set and the risk-signal file a release carries, as data.

A release stores the YAML text of each (``ReleaseContent``: kind, version, sha256, text; the same
text of a kind is stored once), checked with the loaders of the shipped files
(``conversations/content/filter_rules.yaml`` through ``filter.rules``,
``conversations/backends/risk_signals.yaml`` through ``backends.safety_rules``), so a bad entry is
refused with the loader's message naming it and nothing is saved.

Each chat turn serves its arm's release's contents (``conversations.rollout``). A stored text
never changes, so its compiled form is cached in-process by sha256 (bounded ``lru_cache``): after
the first turn of a release in a process, resolving its contents is a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from ari_review.api.errors import ApplicationError
from conversations.backends.safety_rules import (
    RULESET_VERSION as SHIPPED_SIGNALS_VERSION,
)
from conversations.backends.safety_rules import (
    SIGNALS_FILE,
    RiskSignalError,
    Rule,
    signals_parse,
)
from conversations.models import ReleaseContent, ReleaseContentKind
from conversations.services.filter.rules import (
    RULES_FILE,
    SHIPPED_RULE_SET,
    FilterRulesError,
    RuleSet,
    rule_set_parse_text,
)

logger = logging.getLogger(__name__)

FILTER_RULES = ReleaseContentKind.FILTER_RULES.value
RISK_SIGNALS = ReleaseContentKind.RISK_SIGNALS.value
LABELS = {FILTER_RULES: "response-filter rule set", RISK_SIGNALS: "risk-signal file"}
# The longest rule set or signal file an admin may give (the shipped ones are 11 and 15 kB).
MAX_CONTENT_CHARS = 500_000
# Compiled contents kept per process: a live release, a candidate and a few recent ones.
COMPILED_CACHE_SIZE = 16


T = TypeVar("T")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shipped_text(kind: str) -> str:
    """The file this deployment ships for ``kind``."""
    path = RULES_FILE if kind == FILTER_RULES else SIGNALS_FILE
    return path.read_text(encoding="utf-8")


SHIPPED_SHA256 = {kind: sha256_of(shipped_text(kind)) for kind in (FILTER_RULES, RISK_SIGNALS)}


def release_content_version(*, kind: str, text: str) -> str:
    """The version of ``text`` as the shipped file's loader reads it; :class:`ApplicationError`
    with the loader's message (naming the bad entry) when it is not valid."""
    label = LABELS[kind]
    try:
        if kind == FILTER_RULES:
            return rule_set_parse_text(text, source=label).version
        return signals_parse(text, source=label)[0]
    except (FilterRulesError, RiskSignalError) as exc:
        raise ApplicationError(f"The {label} is not valid: {exc}") from None


def release_content_store(*, kind: str, text: str | None = None) -> ReleaseContent:
    """The stored row of ``text`` (checked; the shipped file when ``text`` is None or blank),
    created the first time this text of ``kind`` is seen."""
    if kind not in LABELS:
        raise ApplicationError(f"Unknown release content {kind!r}.")
    if text is None or not text.strip():
        text = shipped_text(kind)
    if len(text) > MAX_CONTENT_CHARS:
        raise ApplicationError(
            f"The {LABELS[kind]} is {len(text)} characters; at most {MAX_CONTENT_CHARS}."
        )
    version = release_content_version(kind=kind, text=text)
    if len(version) > ReleaseContent._meta.get_field("version").max_length:  # type: ignore[operator]
        raise ApplicationError(f"The {LABELS[kind]}'s version {version[:50]!r} is too long.")
    content, _ = ReleaseContent.objects.get_or_create(
        kind=kind, sha256=sha256_of(text), defaults={"version": version, "text": text}
    )
    return content


def _stored_text(kind: str, sha256: str) -> str:
    text = (
        ReleaseContent.objects.filter(kind=kind, sha256=sha256)
        .values_list("text", flat=True)
        .first()
    )
    if text is None:
        raise LookupError(f"no stored {kind} {sha256[:12]}")
    return text


@lru_cache(maxsize=COMPILED_CACHE_SIZE)
def filter_rule_set_for(sha256: str) -> RuleSet:
    """The compiled rule set stored as ``sha256`` (the shipped one for "" or the shipped text).
    Raises when it cannot be read or compiled (the caller serves the shipped one instead)."""
    if not sha256 or sha256 == SHIPPED_SHA256[FILTER_RULES]:
        return SHIPPED_RULE_SET
    return rule_set_parse_text(_stored_text(FILTER_RULES, sha256), source=f"rule set {sha256[:12]}")


@lru_cache(maxsize=COMPILED_CACHE_SIZE)
def risk_signals_for(sha256: str) -> tuple[str, tuple[Rule, ...] | None]:
    """``(version, rules)`` of the signal file stored as ``sha256``; rules None for the shipped
    file ("" or its text). Raises when it cannot be read or compiled."""
    if not sha256 or sha256 == SHIPPED_SHA256[RISK_SIGNALS]:
        return SHIPPED_SIGNALS_VERSION, None
    return signals_parse(_stored_text(RISK_SIGNALS, sha256), source=f"signal file {sha256[:12]}")


def served_or_shipped(
    resolve: Callable[[str], T], sha256: str, provenance: dict[str, Any], kind: str
) -> T:
    """``resolve(sha256)``, the release's stored text compiled; one that cannot be compiled here
    never leaves a turn without it: the shipped file serves instead, recorded as
    ``provenance["<kind>_error"]``."""
    try:
        return resolve(sha256)
    except Exception as exc:
        logger.exception("release %s unavailable sha256=%s", kind, sha256[:12])
        provenance[f"{kind}_error"] = type(exc).__name__
        return resolve("")


def compiled_caches_clear() -> None:
    """Forget the compiled contents (tests; a stored text never changes, so serving never
    needs it)."""
    filter_rule_set_for.cache_clear()
    risk_signals_for.cache_clear()
