"""Feeling cues: phrases in ``feelings.yaml`` that name or imply a coaching feeling.

The cues raise the feelings GoEmotions has no label for (lonely, hopeless, overwhelmed, numb)
and plain loss; the keywords name the other feelings and are read only when no trained model
is installed. A negation shortly before a cue, in the same clause, cancels it ("I'm not alone",
"I don't feel lonely"); "I've never felt so alone" is not a negation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

FEELINGS_FILE = Path(__file__).with_name("feelings.yaml")
MIXED = "mixed"
KEYWORD_PREFIX = "keyword."

# A negation within this many words before a cue, in the same clause, cancels it.
NEGATION_WINDOW = 3
_NEGATOR = re.compile(
    r"\b(?:not|no|never|don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|"
    r"hadn't|ain't|hardly|without|nor|no\s+longer)\b"
)
# "never felt so alone", "haven't been this overwhelmed": the negation makes it stronger.
_INTENSIFIED = re.compile(
    r"\b(?:never|haven't|hadn't|hasn't|have\s+not|has\s+not)\s+(?:ever\s+)?(?:felt|been|was|"
    r"were|feel|seen)\s+(?:\w+\s+)?(?:so|this|that|more|as)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;,:()\n]|\b(?:but|and|though|although|yet|because|so\s+now)\b")
# A self-report frame before a named feeling: "I feel", "I'm really", "feeling a bit"...
SELF_REPORT = (
    r"(?:\bi\s+(?:feel|felt|am|was|get|got)|\bi'm|\bi've\s+(?:been|felt)|\bi\s+have\s+been|"
    r"\bfeeling|\bfeel|\bmakes?\s+me(?:\s+feel)?|\bmade\s+me(?:\s+feel)?|\bleaves?\s+me|"
    r"\bleft\s+me)\s+(?:(?:so|really|very|quite|a\s+bit|kind\s+of|kinda|a\s+little|pretty|just|"
    r"super|extremely|incredibly|totally|too|absolutely|deeply|also|still|always|honestly|even|"
    r"more|a\s+lot|beyond|sort\s+of|bit|rather|genuinely|truly|utterly|completely)\s+)*"
)
_CONTRACTION = re.compile(
    r"\b(don|can|won|didn|doesn|isn|aren|wasn|weren|haven|hasn|hadn|couldn|wouldn|shouldn)t\b"
)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, "dont" -> "don't", "im" -> "i'm", single spaces."""
    text = (text or "").lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _CONTRACTION.sub(r"\1't", text)
    text = re.sub(r"\bim\b", "i'm", text)
    text = re.sub(r"\bive\b", "i've", text)
    return _SPACE.sub(" ", text).strip()


def _phrase_regex(phrase: str) -> str:
    words = []
    for word in normalise(phrase).split():
        if word.endswith("*"):
            words.append(re.escape(word[:-1]) + r"[\w']*")
        else:
            words.append(re.escape(word))
    return r"(?<![\w'])" + r"\s+".join(words) + r"(?![\w'])"


@dataclass(frozen=True)
class Cue:
    id: str
    feeling: str
    regex: re.Pattern
    negatable: bool = True
    # A match is not counted when this pattern matches the words just before it, in the same
    # clause ("I just want to feel lighter" is a wish, not relief).
    unless_before: re.Pattern | None = None


@dataclass(frozen=True)
class CueHit:
    cue_id: str
    feeling: str
    start: int


@dataclass(frozen=True)
class FeelingsConfig:
    version: str
    feelings: tuple[str, ...]
    goemotions: dict[str, str]
    priority: tuple[str, ...]
    cues: tuple[Cue, ...]
    keywords: tuple[Cue, ...]


def _compile_cue(entry: dict, feelings: tuple[str, ...]) -> Cue:
    cue_id = entry.get("id") or ""
    feeling = entry.get("feeling")
    if feeling not in feelings or feeling == MIXED:
        raise ValueError(f"feelings.yaml: cue {cue_id!r} names unknown feeling {feeling!r}")
    parts = [_phrase_regex(p) for p in entry.get("phrases") or ()]
    if entry.get("pattern"):
        parts.append(f"(?x:{entry['pattern']})")
    if not parts:
        raise ValueError(f"feelings.yaml: cue {cue_id!r} has neither phrases nor pattern")
    return Cue(
        id=cue_id,
        feeling=feeling,
        regex=re.compile("|".join(f"(?:{p})" for p in parts)),
        negatable=bool(entry.get("negatable", True)),
        unless_before=re.compile(f"(?x:{entry['unless_before']})\\W*$", re.I)
        if entry.get("unless_before")
        else None,
    )


def _named_cue(feeling: str, words: list[str], feelings: tuple[str, ...]) -> Cue:
    """``named.<feeling>``: one of ``words`` right after a self-report frame."""
    if feeling not in feelings or feeling == MIXED or not words:
        raise ValueError(f"feelings.yaml: named feeling {feeling!r} is unknown or has no words")
    alternatives = "|".join(_phrase_regex(w) for w in words)
    return Cue(
        id=f"named.{feeling}",
        feeling=feeling,
        regex=re.compile(SELF_REPORT + f"(?:{alternatives})"),
    )


def parse_config(data: dict) -> FeelingsConfig:
    """Check and compile the contents of ``feelings.yaml`` (errors name the entry)."""
    feelings = tuple(data["feelings"])
    if MIXED not in feelings:
        raise ValueError("feelings.yaml: the feeling list must contain 'mixed'")
    goemotions = dict(data["goemotions"])
    unknown = {f for f in goemotions.values() if f not in feelings}
    if unknown:
        raise ValueError(f"feelings.yaml: goemotions maps to unknown feelings {sorted(unknown)}")
    cues = tuple(_compile_cue(entry, feelings) for entry in data.get("cues") or ()) + tuple(
        _named_cue(feeling, words, feelings) for feeling, words in (data.get("named") or {}).items()
    )
    ids = [cue.id for cue in cues]
    if len(ids) != len(set(ids)):
        raise ValueError("feelings.yaml: cue ids must be unique")
    priority = tuple(data.get("cue_priority") or ())
    missing = {cue.feeling for cue in cues} - set(priority)
    if missing:
        raise ValueError(f"feelings.yaml: cue_priority lacks {sorted(missing)}")
    keywords = tuple(
        _compile_cue(
            {"id": f"{KEYWORD_PREFIX}{feeling}", "feeling": feeling, "phrases": words}, feelings
        )
        for feeling, words in (data.get("keywords") or {}).items()
    )
    return FeelingsConfig(
        version=str(data.get("version", "")),
        feelings=feelings,
        goemotions=goemotions,
        priority=priority,
        cues=cues,
        keywords=keywords,
    )


@lru_cache(maxsize=4)
def feelings_config(path: Path = FEELINGS_FILE) -> FeelingsConfig:
    return parse_config(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def _negated(text: str, start: int, matched: str) -> bool:
    before = _CLAUSE_BREAK.split(text[max(0, start - 80) : start])[-1]
    window = " ".join(before.split()[-NEGATION_WINDOW:])
    negation = _NEGATOR.search(window)
    if negation is None:
        return False
    return not _INTENSIFIED.search(window[negation.start() :] + " " + matched)


def _hits(cues: tuple[Cue, ...], text: str) -> list[CueHit]:
    text = normalise(text)
    found = []
    for cue in cues:
        for match in cue.regex.finditer(text):
            if cue.negatable and _negated(text, match.start(), match.group(0)):
                continue
            if cue.unless_before is not None and cue.unless_before.search(
                _CLAUSE_BREAK.split(text[max(0, match.start() - 80) : match.start()])[-1]
            ):
                continue
            found.append(CueHit(cue_id=cue.id, feeling=cue.feeling, start=match.start()))
            break
    return found


def cue_hits(text: str, config: FeelingsConfig | None = None) -> list[CueHit]:
    """The cues in ``text`` that are not negated, one hit per cue."""
    return _hits((config or feelings_config()).cues, text)


def keyword_hits(text: str, config: FeelingsConfig | None = None) -> list[CueHit]:
    """The fallback keywords in ``text`` that are not negated, one hit per feeling."""
    return _hits((config or feelings_config()).keywords, text)


def ranked_feelings(hits: list[CueHit], priority: tuple[str, ...]) -> list[str]:
    """The distinct feelings of ``hits``: in ``priority`` order, then by first appearance."""
    first: dict[str, int] = {}
    for hit in sorted(hits, key=lambda h: h.start):
        first.setdefault(hit.feeling, hit.start)
    rank = {feeling: i for i, feeling in enumerate(priority)}
    return sorted(first, key=lambda f: (rank.get(f, len(rank)), first[f]))
