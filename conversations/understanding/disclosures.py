"""Situations a user mentions that the reply must not skip over (``disclosures.yaml``):
drinking or drug use to cope, losing one's home, sleepless nights with feeling unreal, being
mistreated by someone close, another person who may be in danger, fear of losing control.

``disclosure_of(text)`` names the family the reply acknowledges (``reply_bank`` slot
``disclosure``), or ``None``. The file shapes the reply; the risk level is the screen's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DISCLOSURES_FILE = Path(__file__).with_name("disclosures.yaml")


class DisclosureFileError(ValueError):
    """A bad entry in the disclosures file; the message names it."""


@dataclass(frozen=True)
class Family:
    name: str
    safety_check: bool  # its parts carry a gentle safety question


@dataclass(frozen=True)
class Entry:
    id: str
    family: str
    patterns: tuple[re.Pattern, ...]
    unless: re.Pattern | None

    def fires(self, text: str) -> bool:
        if self.unless is not None and self.unless.search(text):
            return False
        return all(pattern.search(text) for pattern in self.patterns)


@dataclass(frozen=True)
class Disclosures:
    version: str
    families: tuple[Family, ...]
    entries: tuple[Entry, ...]

    def family(self, name: str) -> Family:
        return next(family for family in self.families if family.name == name)


def _compile(expression: object, where: str) -> re.Pattern:
    if not isinstance(expression, str) or not expression.strip():
        raise DisclosureFileError(f"{where}: a pattern must be a non-empty string")
    try:
        return re.compile(expression, re.I | re.X)
    except re.error as exc:
        raise DisclosureFileError(f"{where}: bad pattern ({exc})") from None


def disclosures_load(path: Path = DISCLOSURES_FILE) -> Disclosures:
    """The file, checked: every entry's family declared, ids unique, patterns compiling."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    families = tuple(
        Family(str(row["name"]), bool(row.get("safety_check", False))) for row in data["families"]
    )
    names = {family.name for family in families}
    entries, seen = [], set()
    for number, row in enumerate(data["entries"], 1):
        where = f"{path.name} entry {number} ({row.get('id', '?')})"
        if row.get("id") in seen or not row.get("id"):
            raise DisclosureFileError(f"{where}: missing or repeated id")
        if row.get("family") not in names:
            raise DisclosureFileError(f"{where}: family must be one of {sorted(names)}")
        if not row.get("all"):
            raise DisclosureFileError(f"{where}: 'all' needs at least one pattern")
        seen.add(row["id"])
        unless = row.get("unless")
        entries.append(
            Entry(
                id=row["id"],
                family=row["family"],
                patterns=tuple(_compile(p, where) for p in row["all"]),
                unless=_compile(unless, where) if unless is not None else None,
            )
        )
    return Disclosures(str(data["version"]), families, tuple(entries))


@lru_cache(maxsize=1)
def shipped_disclosures() -> Disclosures:
    return disclosures_load()


def disclosure_of(text: str) -> str | None:
    """The family of the situation ``text`` discloses (the first in the file's order), or None."""
    text = (text or "").replace("\u2019", "'")
    disclosures = shipped_disclosures()
    fired = {entry.family for entry in disclosures.entries if entry.fires(text)}
    return next((f.name for f in disclosures.families if f.name in fired), None)
