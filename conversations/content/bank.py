"""The bank of clinician-approved reply parts the ``composed`` backend builds replies from.

Data files in ``conversations/content/reply_bank/*.jsonl``, one per writer, one part per line:
``{"id", "slot", "key", "text", "source"}``. Slots: ``validation`` (key: a feeling; the text may
hold ``{phrase}``, the user's own clause turned to the second person, and ``{topic}``),
``move`` (key: ``<session type>.<flow step>``; may hold ``{topic}``), ``request`` (key: what
the user asked of Ari, ``resources``, ``advice``, ``vent`` or ``normal``: the answer said before
the move; may hold ``{topic}``; ``advice.<topic>`` or ``advice.general``: two ideas for the
topic, said instead of the move), ``disclosure`` (key: a family of
``understanding/disclosures.yaml``: the acknowledgement said instead of the move;
``<family>.unanswered``: Ari comes back once to a question the user left unanswered) and
``safety_question`` (key: ``medium``). Optional ``when``: words of which one must be in what the
user told for the part to fit (a part written for a sister is not said about a child). Loading
checks every row and names the file and line of a bad one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

BANK_DIR = Path(__file__).with_name("reply_bank")
FEELINGS = (
    "sad",
    "lonely",
    "anxious",
    "ashamed",
    "angry",
    "guilty",
    "hopeless",
    "grieving",
    "overwhelmed",
    "numb",
    "hopeful",
    "relieved",
    "mixed",
)
SLOTS = {"validation", "move", "safety_question", "request", "disclosure"}
# A disclosure family's follow-ups (key ``<family>.<follow-up>``): ``unanswered`` comes back once
# to a question about another person's safety that the user's next message left unanswered.
DISCLOSURE_FOLLOW_UPS = ("unanswered",)
PLACEHOLDERS = {
    "validation": {"phrase", "topic"},
    "move": {"topic"},
    "safety_question": set(),
    "request": {"topic"},
    "disclosure": set(),
}
REQUEST_KEYS = {"resources", "advice", "vent", "normal"}
# Advice asked for is answered with two small ideas for the topic (``advice.<topic>``, or
# ``advice.general`` when no topic is known); plain ``advice`` parts are the last resort.
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class BankError(ValueError):
    """A bad row in a bank file; the message names the file and line."""


@dataclass(frozen=True)
class Part:
    id: str
    slot: str
    key: str
    text: str
    source: str
    # Optional: words (or word beginnings) of which one must be in what the user told for the
    # part to fit ("sister", "exam"); a part without them fits any message of its key.
    when: tuple[str, ...] = ()

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.text))

    @cached_property
    def _when_regex(self) -> re.Pattern:
        return re.compile(r"(?i)\b(?:" + "|".join(map(re.escape, self.when)) + ")")

    def fits(self, told: str) -> bool:
        """Does one of ``when``'s words begin a word of ``told``? (True when none are set.)"""
        return not self.when or bool(self._when_regex.search(told))

    def sentences(self, **values) -> list[str]:
        return split_sentences(self.text.format(**values))


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s.strip()]


@dataclass(frozen=True)
class ReplyBank:
    parts: dict[tuple[str, str], tuple[Part, ...]]
    version: str

    def get(self, slot: str, key: str) -> tuple[Part, ...]:
        return self.parts.get((slot, key), ())


def _check(row, where: str, move_keys: set[str] | None) -> Part:
    if not isinstance(row, dict):
        raise BankError(f"{where}: a row must be a JSON object")
    missing = {"id", "slot", "key", "text", "source"} - set(row)
    if missing:
        raise BankError(f"{where}: missing {sorted(missing)}")
    when = row.get("when", [])
    if not isinstance(when, list) or not all(isinstance(w, str) and w.strip() for w in when):
        raise BankError(f"{where}: 'when' must be a list of words")
    part = Part(
        **{k: str(row[k]) for k in ("id", "slot", "key", "text", "source")},
        when=tuple(w.strip() for w in when),
    )
    if part.slot not in SLOTS:
        raise BankError(f"{where}: slot {part.slot!r} is not one of {sorted(SLOTS)}")
    if part.slot == "validation" and part.key not in FEELINGS:
        raise BankError(f"{where}: feeling {part.key!r} is not one of {list(FEELINGS)}")
    if part.slot == "move" and move_keys is not None and part.key not in move_keys:
        raise BankError(f"{where}: flow step {part.key!r} is not a step of any flow")
    base, _, sub = part.key.partition(".")  # "advice.work", "someone_at_risk.unanswered"
    if part.slot == "request" and (
        base not in REQUEST_KEYS or (sub and (base, sub) not in _advice_keys())
    ):
        raise BankError(
            f"{where}: request {part.key!r} is not one of {sorted(REQUEST_KEYS)}"
            " (advice may name a topic of topics.yaml or 'general': advice.work)"
        )
    if part.slot == "disclosure" and (
        base not in _disclosure_families() or sub not in ("", *DISCLOSURE_FOLLOW_UPS)
    ):
        raise BankError(
            f"{where}: disclosure {part.key!r} is not one of {sorted(_disclosure_families())}"
            f" (optionally followed by .{' or .'.join(DISCLOSURE_FOLLOW_UPS)})"
        )
    unknown = part.placeholders - PLACEHOLDERS[part.slot]
    if unknown:
        raise BankError(f"{where}: placeholder(s) {sorted(unknown)} not allowed in a {part.slot}")
    if not part.text.strip():
        raise BankError(f"{where}: empty text")
    return part


def _advice_keys() -> set[tuple[str, str]]:
    from conversations.understanding.phrases import topic_ids

    return {("advice", about) for about in (*topic_ids(), "general")}


def _disclosure_families() -> set[str]:
    from conversations.understanding.disclosures import shipped_disclosures

    return {family.name for family in shipped_disclosures().families}


def bank_load(directory: Path = BANK_DIR, move_keys: set[str] | None = None) -> ReplyBank:
    """Every part of every ``*.jsonl`` file in ``directory``, checked."""
    parts: dict[tuple[str, str], list[Part]] = defaultdict(list)
    seen: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        raw = path.read_bytes()
        digest.update(raw)
        for number, line in enumerate(raw.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise BankError(f"{where}: not JSON ({exc})") from None
            part = _check(row, where, move_keys)
            if part.id in seen:
                raise BankError(f"{where}: id {part.id!r} already used at {seen[part.id]}")
            seen[part.id] = where
            parts[(part.slot, part.key)].append(part)
    return ReplyBank(
        parts={key: tuple(values) for key, values in parts.items()},
        version=f"bank-{digest.hexdigest()[:12]}",
    )


@lru_cache(maxsize=1)
def reply_bank() -> ReplyBank:
    """The shipped bank, loaded and checked once per process."""
    from conversations.flows import FLOWS

    steps = {f"{flow}.{step}" for flow, flow_steps in FLOWS.items() for step in flow_steps}
    steps |= {"gentle_deep.consent_reask", "gentle_deep.consent_declined"}
    return bank_load(BANK_DIR, move_keys=steps)
