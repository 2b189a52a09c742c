"""The sentence rules of the response filter, read from a data file
(``conversations/content/filter_rules.yaml``: each hard line, the patterns that detect it and the
safe sentence that replaces a sentence crossing it). The file is checked when it loads; a bad
entry raises ``FilterRulesError`` naming it, so a broken rule set never serves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

RULES_FILE = Path(__file__).resolve().parents[2] / "content" / "filter_rules.yaml"
CATEGORIES = frozenset(
    {
        "self_harm_howto",
        "violence_howto",
        "substance_howto",
        "diagnosis",
        "medical_directive",
        "legal_directive",
        "coercion",
    }
)
_ID_RX = re.compile(r"^RF-[A-Z]{2}-\d{2}$")
_PIECE_RX = re.compile(r"\{\{(\w+)\}\}")


class FilterRulesError(ValueError):
    """The rule file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    patterns: tuple[re.Pattern[str], ...]
    replacement: str

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per text
class RuleSet:
    version: str
    max_reply_chars: int
    # Sentence rules, in priority order: the first matching rule's replacement is used, every
    # matching rule is recorded.
    rules: tuple[Rule, ...]
    # One search tells whether a text needs the rule-by-rule checks at all (most replies do not).
    any_rule_rx: re.Pattern[str]


def _joined(value: object, where: str) -> str:
    """A pattern or vocabulary piece: a string, or a list of strings joined."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise FilterRulesError(f"{where}: expected a non-empty string or list of strings")


def _expand(text: str, pieces: dict[str, str], where: str) -> str:
    def piece(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in pieces:
            raise FilterRulesError(f"{where}: unknown vocabulary piece {{{{{name}}}}}")
        return pieces[name]

    return _PIECE_RX.sub(piece, text)


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise FilterRulesError(f"{where}: invalid regular expression ({exc})") from exc


def rule_set_parse(data: object) -> RuleSet:
    """Checks and compiles a parsed rule file."""
    if not isinstance(data, dict):
        raise FilterRulesError("the rule file must be a mapping")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise FilterRulesError("version: required")
    max_chars = data.get("max_reply_chars")
    if not isinstance(max_chars, int) or max_chars < 100:
        raise FilterRulesError("max_reply_chars: an integer of at least 100 is required")
    pieces: dict[str, str] = {}
    for name, value in (data.get("vocabulary") or {}).items():
        where = f"vocabulary.{name}"
        pieces[name] = _expand(_joined(value, where), pieces, where)
        _compile(pieces[name], where)
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise FilterRulesError("rules: a non-empty list is required")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        rule_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"rule {rule_id or index}"
        if not isinstance(rule_id, str) or not _ID_RX.match(rule_id):
            raise FilterRulesError(f"{where}: id must look like RF-XX-01")
        if rule_id in seen:
            raise FilterRulesError(f"{where}: duplicate id")
        seen.add(rule_id)
        if entry.get("category") not in CATEGORIES:
            raise FilterRulesError(f"{where}: category must be one of {sorted(CATEGORIES)}")
        replacement = entry.get("replacement")
        if not isinstance(replacement, str) or not replacement.strip():
            raise FilterRulesError(f"{where}: replacement required")
        raw = entry.get("patterns")
        if not isinstance(raw, list) or not raw:
            raise FilterRulesError(f"{where}: patterns must be a non-empty list")
        patterns = tuple(
            _compile(_expand(_joined(p, f"{where} pattern {i}"), pieces, where), where)
            for i, p in enumerate(raw)
        )
        rules.append(Rule(rule_id, entry["category"], patterns, replacement.strip()))
    for rule in rules:
        crossing = [other.id for other in rules if other.matches(rule.replacement)]
        if crossing:
            raise FilterRulesError(f"rule {rule.id}: its replacement crosses {crossing}")
    any_rule_rx = re.compile(
        "|".join(f"(?:{p.pattern})" for rule in rules for p in rule.patterns), re.IGNORECASE
    )
    return RuleSet(version.strip(), max_chars, tuple(rules), any_rule_rx)


def rule_set_parse_text(text: str, *, source: str = "the rule file") -> RuleSet:
    """Checks and compiles a rule file's YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FilterRulesError(f"{source}: not valid YAML ({exc})") from exc
    return rule_set_parse(data)


def rule_set_load(path: Path = RULES_FILE) -> RuleSet:
    return rule_set_parse_text(path.read_text(encoding="utf-8"), source=path.name)


SHIPPED_RULE_SET = rule_set_load()
RULESET_VERSION = SHIPPED_RULE_SET.version
MAX_REPLY_CHARS = SHIPPED_RULE_SET.max_reply_chars
SENTENCE_RULES: tuple[Rule, ...] = SHIPPED_RULE_SET.rules
ANY_SENTENCE_RULE_RX = SHIPPED_RULE_SET.any_rule_rx
