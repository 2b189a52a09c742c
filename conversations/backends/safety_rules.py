"""The risk-signal layer: phrases from a reviewed data file that raise risk, never lower it.

The signals live in ``risk_signals.yaml`` (next to this module; its header documents the format),
not in code: explicit first-person ideation in four languages, and the situations that carry
risk without any suicide word (means at hand, an act in progress, harm to a named person, acute
crises). Clinicians add entries from the workspace (``RiskSignal`` rows, audited), which apply
at once without retraining. Implicit ideation, idioms and negations are the model's job; the
guards below keep a signal from firing on the most common false alarms.

:func:`apply_safety_net` combines the model's level with the hits and only ever raises it.
Every hit carries its entry id, which the turn records.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from training_jobs.ml.labels import LANGS, RISK_CATEGORIES, level_rank

SIGNALS_FILE = Path(__file__).resolve().parent / "risk_signals.yaml"
SIGNAL_LEVELS = ("medium", "high")
DEFAULT_WINDOW = 10


class RiskSignalError(ValueError):
    """A risk-signal entry is malformed (the message names the entry)."""


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    category: str
    groups: tuple[re.Pattern[str], ...]  # every group must match (a pattern entry has one)
    window: int | None = None  # words between the first and the last group's match
    negatable: bool = True


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    level: str
    category: str


def fold(text: str) -> str:
    """Lowercase, no accents, straight apostrophes, single spaces: how text and phrases meet."""
    text = unicodedata.normalize("NFKD", text or "").replace("’", "'").replace("`", "'")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().lower()


def _phrase(phrase: str) -> str:
    words = fold(phrase).split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    return r"(?<!\w)" + r"\W+".join(parts) + (r"(?!\w)" if not words[-1].endswith("*") else "")


def compile_entry(entry: dict[str, Any]) -> Rule:
    """One entry of the data file (or a workspace row) as a rule; clear error when malformed."""
    name = entry.get("id") if isinstance(entry, dict) else None
    where = f"risk signal {name!r}" if name else "a risk signal without an id"
    if not isinstance(entry, dict) or not isinstance(name, str) or not name.strip():
        raise RiskSignalError(f"{where}: every entry needs an 'id'")
    if entry.get("level") not in SIGNAL_LEVELS:
        raise RiskSignalError(f"{where}: 'level' must be one of {list(SIGNAL_LEVELS)}")
    if entry.get("category") not in RISK_CATEGORIES:
        raise RiskSignalError(f"{where}: 'category' must be one of {list(RISK_CATEGORIES)}")
    langs = entry.get("langs") or []
    if not langs or any(lang not in LANGS for lang in langs):
        raise RiskSignalError(f"{where}: 'langs' must list some of {list(LANGS)}")
    unknown = (
        set(entry)
        - {"id", "level", "category", "langs", "all", "pattern", "window"}
        - {
            "negatable",
            "note",
        }
    )
    if unknown:
        raise RiskSignalError(f"{where}: unknown field(s) {sorted(unknown)}")
    has_all, has_pattern = "all" in entry, "pattern" in entry
    if has_all == has_pattern:
        raise RiskSignalError(f"{where}: give either 'all' (phrase groups) or 'pattern'")
    try:
        if has_pattern:
            groups: tuple[re.Pattern[str], ...] = (re.compile(fold(str(entry["pattern"]))),)
        else:
            raw = entry["all"]
            if not isinstance(raw, list) or not raw:
                raise RiskSignalError(f"{where}: 'all' must be a list of phrase lists")
            compiled: list[re.Pattern[str]] = []
            for group in raw:
                phrases = (
                    [p for p in group if isinstance(p, str) and p.strip()]
                    if isinstance(group, list)
                    else []
                )
                if not phrases or len(phrases) != len(group):
                    raise RiskSignalError(f"{where}: each group of 'all' is a list of phrases")
                compiled.append(re.compile("|".join(_phrase(p) for p in phrases)))
            groups = tuple(compiled)
    except re.error as exc:
        raise RiskSignalError(f"{where}: its pattern is not a valid expression ({exc})") from None
    window = entry.get("window", DEFAULT_WINDOW if has_all else None)
    if window is not None and (not isinstance(window, int) or window < 1):
        raise RiskSignalError(f"{where}: 'window' must be a positive number of words")
    negatable = entry.get("negatable", True)
    if not isinstance(negatable, bool):
        raise RiskSignalError(f"{where}: 'negatable' must be true or false")
    return Rule(name, entry["level"], entry["category"], groups, window, negatable)


def signals_parse(
    text: str, *, source: str = "the risk-signal file"
) -> tuple[str, tuple[Rule, ...]]:
    """``(version, rules)`` of a signal file's text; :class:`RiskSignalError` naming a bad entry."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RiskSignalError(f"{source}: cannot be read as YAML ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise RiskSignalError(f"{source}: needs a 'version' and a list of 'entries'")
    rules = tuple(compile_entry(entry) for entry in document["entries"])
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RiskSignalError(f"risk signal {rule.id!r}: the id is used twice")
        seen.add(rule.id)
    return str(document.get("version") or "unversioned"), rules


def load_signals(path: Path = SIGNALS_FILE) -> tuple[str, tuple[Rule, ...]]:
    """``(version, rules)`` of a signal file; :class:`RiskSignalError` naming a bad entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RiskSignalError(f"{path}: cannot be read as YAML ({exc})") from None
    return signals_parse(text, source=str(path))


RULESET_VERSION, RULES = load_signals()

_NEGATION = re.compile(
    r"\b(?:not|never|no|don'?t|dont|won'?t|wont|wouldn'?t|nothing|nicht|nie|kein\w*|nunca|jamas|"
    r"tampoco|jamais|pas)\b(?:\W+\w+){0,3}\W*$"
)
_PAST = re.compile(
    r"\b(?:tried|trid|used|attempted|(?:after|since) trying) to\W*$|\bwhen i was (?:a )?\w+\W*$"
    r"|\b(?:versucht|intente|essaye de|tente de)\W*$"
)
_ACADEMIC = re.compile(
    r"\b(?:essay|paper|research|prevention|awareness|training|course|class|documentary|film|"
    r"movie|book|novel|podcast|statistics|module|lecture|thesis|dissertation|workshop|recovery|"
    r"recovered|screenplay|presentation|blog|character|story|anthology|history of)\b"
)

# Where the entries clinicians added in the workspace come from: a callable returning compiled
# rules, registered by the conversations app when Django is set up (none in plain scripts).
_extra_loader: Callable[[], tuple[Rule, ...]] | None = None


def set_extra_loader(loader: Callable[[], tuple[Rule, ...]] | None) -> None:
    global _extra_loader
    _extra_loader = loader


# The signal file's entries in force where the screen runs: a release's own file (set by the chat
# turn for its arm with :func:`signals_in_force`), else the shipped file's.
_file_rules: ContextVar[tuple[Rule, ...] | None] = ContextVar("risk_signal_rules", default=None)


@contextmanager
def signals_in_force(rules: tuple[Rule, ...] | None) -> Iterator[None]:
    """Within the block, :func:`rule_hits` reads ``rules`` (a release's signal file) instead of
    the shipped file's entries; the workspace's entries still apply. ``None``: the shipped file."""
    token = _file_rules.set(rules)
    try:
        yield
    finally:
        _file_rules.reset(token)


def active_rules() -> tuple[Rule, ...]:
    """The signal file's entries in force, then the workspace's active ones."""
    in_force = _file_rules.get()
    return (RULES if in_force is None else in_force) + (
        _extra_loader() if _extra_loader is not None else ()
    )


def _first_hit(rule: Rule, prepared: str) -> int | None:
    """Where ``rule`` fires in ``prepared`` (the start of its earliest match), or None."""
    spans = [[(m.start(), m.end()) for m in group.finditer(prepared)] for group in rule.groups]
    if not all(spans):
        return None
    if len(spans) == 1:
        return spans[0][0][0]
    # every group matched: is there one match per group within the window?
    word_at = _word_index(prepared)
    best: int | None = None
    for combo in _combinations(spans):
        words = [word_at(start) for start, _ in combo] + [word_at(end - 1) for _, end in combo]
        if rule.window is None or max(words) - min(words) <= rule.window:
            start = min(s for s, _ in combo)
            best = start if best is None else min(best, start)
    return best


def _combinations(
    spans: Sequence[list[tuple[int, int]]], limit: int = 6
) -> Iterator[tuple[tuple[int, int], ...]]:
    """One match per group (the first ``limit`` of each), every combination."""
    if not spans:
        yield ()
        return
    for head in spans[0][:limit]:
        for rest in _combinations(spans[1:], limit):
            yield (head, *rest)


def _word_index(text: str) -> Callable[[int], int]:
    starts = [m.start() for m in re.finditer(r"\S+", text)]

    def index(position: int) -> int:
        lo, hi = 0, len(starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if starts[mid] <= position:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    return index


def rule_hits(text: str, rules: Sequence[Rule] | None = None) -> list[RuleHit]:
    """Signals that fire on ``text`` (each at most once), in entry order."""
    prepared = fold(text)
    hits: list[RuleHit] = []
    for rule in active_rules() if rules is None else rules:
        start = _first_hit(rule, prepared)
        if start is None:
            continue
        before = prepared[max(0, start - 40) : start]
        if rule.negatable and _NEGATION.search(before):
            continue
        if _PAST.search(before):
            continue
        if rule.id == "sh.mention" and _ACADEMIC.search(prepared):
            continue
        hits.append(RuleHit(rule.id, rule.level, rule.category))
    return hits


def rules_level(hits: list[RuleHit]) -> tuple[str, str]:
    """The most severe ``(level, category)`` among ``hits``; ``("none", "")`` without hits."""
    if not hits:
        return "none", ""
    top = max(hits, key=lambda h: level_rank(h.level))
    return top.level, top.category


def apply_safety_net(level: str, category: str, hits: list[RuleHit]) -> tuple[str, str]:
    """Combine the model's ``(level, category)`` with the hits. Only ever raises the level; at
    the same level the family a signal found in the user's own words replaces the model's guess
    (the reply may name it: a direct question about what the user said)."""
    rule_level, rule_category = rules_level(hits)
    if level_rank(rule_level) > level_rank(level):
        return rule_level, rule_category
    if hits and rule_level == level and rule_category:
        return level, rule_category
    return level, category
