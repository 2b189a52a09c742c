"""The user's own words for the reply: a key phrase turned to the second person, and the topic.

``key_phrase("I failed my driving test this morning and I can't stop shaking.")`` is
``"you failed your driving test this morning"``: the first clause that tells what happened (a
first-person clause with a verb, not only a feeling), lower-case, pronouns turned. ``None`` when
no clause fits, and the reply then uses a validation without the user's words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

_TOPICS_FILE = Path(__file__).with_name("topics.yaml")

# First person -> second person, word by word (the verb after "I" needs no change in English
# except "am"/"was", handled as pairs).
_PAIRS = {
    "i am": "you are",
    "i'm": "you're",
    "im": "you're",
    "i was": "you were",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
}
_WORDS = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "ourselves": "yourselves",
}
_CLAUSE_SPLIT = re.compile(
    r"[.!?;\n]+|,\s*(?:and|but|so)\s+|\s+(?:and|but|so|because)\s+(?=i\b)", re.I
)
_LEADING = re.compile(
    r"(?i)^(?:(?:so|well|honestly|basically|and|but|also|like|um+|uh+|ok(?:ay)?|"
    r"(?:hi|hey|hello)(?:\s+there)?|"
    r"thanks|thank\s+you|thx|"
    r"ari|yeah|yes|no|just|that|maybe|because|cause)[,\s]+)+|^(?:i\s+(?:think|guess|feel\s+like|mean|just\s+feel\s+like)"
    r"\s+(?:that\s+)?)"
)
# A hedge at the end ("..., I guess", "you know") is not part of the situation; what is left
# must still be about the user ("nothing specific, just in a sad place I guess" is not).
_TRAILING_HEDGE = re.compile(
    r"(?i)[,\s]+(?:i\s+(?:guess|think|suppose|mean|reckon)|you\s+know|lol|haha|tbh|honestly)\W*$"
)
# An intention or a promise ("I can try that") answers Ari; it is not the situation.
_INTENTION = re.compile(
    r"(?i)^(?:(?:i|we)\s+(?:can|could|will|would|might|should|shall|may)\b|(?:i|we)'(?:ll|d)\b|"
    # A need or a wish ("I need to rest more") is what the user wants, not what happened: a
    # validation would make it the feeling's cause ("Because you need to rest more, ...").
    r"(?:i|we)\s+(?:(?:really|just|probably|honestly)\s+)?(?:need|want|wish|hope)\s+to\b)"
)
_FIRST_PERSON = re.compile(r"(?i)\b(?:i|i'm|im|i've|i'd|i'll|my|me|we|our|us)\b")
_ADDRESSES_ARI = re.compile(r"(?i)\b(?:you|your|yours|you're|ari)\b")
# A clause that only names a feeling ("I feel so sad", "I'm anxious") says nothing new.
_ONLY_FEELING = re.compile(
    r"(?i)^(?:i|i'm|im|i\s+am)\s+(?:feel(?:ing)?\s+|am\s+|so\s+|really\s+|just\s+|very\s+|a\s+bit\s+|"
    r"kind\s+of\s+)*(?:\w+)(?:\s+(?:and|or|but)\s+(?:so\s+|really\s+|very\s+)?\w+)?"
    r"(?:\s+(?:today|right\s+now|lately|again))?$"
)
_VERB_HINT = re.compile(
    r"(?i)\b(?:\w+ed|\w+ing|is|are|was|were|am|have|has|had|do|does|did|can|can't|cannot|"
    r"won't|don't|didn't|keep|keeps|got|get|lost|left|said|told|went|came|feel|felt|think|"
    r"thought|know|knew|want|need|miss|broke|failed|fight|fought|hate|love|took|made|saw|"
    r"'m|'ve|'re|it's|that's|there's|calls|texts|says|tells|ignores|yells)\b|"
    r"\b(?:i|we)\s+[a-z']+|\b(?:never|always|still|barely|hardly)\s+[a-z']+"
)
MIN_WORDS, MAX_WORDS = 3, 16
# A clause that cannot follow "When ..." / "You told me ...": it starts with a verb, a
# conjunction or a question word (its subject was cut off, as in "That goes for..." ->
# "goes for..."), or is a question.
_BAD_START = re.compile(
    r"(?i)^(?:then|again|only|also|too|even|plus|anyway|otherwise|or|nor|yet|if|unless|until|"
    r"though|although|whether|since|what|how|why|where|who|whom|which|whatever|is|are|was|were|"
    r"am|be|has|had|do|does|did|can|could|would|should|will|shall|may|might|must|goes|went|"
    r"makes|made|gets|got|feels|felt|seems|seemed|keeps|kept|means|meant|says|said|that'?s|thats|"
    r"to|for|of|with|about|at|by|from|in|on|as|than)\b"
)
# A clause that only says the user knows, hopes or guesses something ("I hope so", "I know this
# sounds insane", "I don't know"): nothing of their situation to reflect.
_NO_SITUATION = re.compile(
    r"(?i)^(?:i|we)\s+(?:(?:really|just|also|still|honestly|do|don'?t|do\s+not)\s+)*(?:hope|guess|"
    r"suppose|know|think|mean|wonder|believe|understand)\b(?:\s+\S+){0,3}$|"
    # A practice reported done ("I did it", "I've tried that"): no situation to reflect.
    r"^(?:i|we)(?:'ve|\s+have)?\s+(?:(?:just|already|finally|actually|also)\s+)*"
    r"(?:did|done|tried|finished|completed)\s+(?:it|that|this|them|the\s+\w+)\b[,.!]?(?:\s+\S+){0,2}$"
)
# A harsh judgement of oneself ("I always mess things up", "it's all my fault"): reflected as
# what a part of the user believes, never stated back as a fact about them.
_SELF_JUDGEMENT = re.compile(
    r"(?i)\bi\s+(?:always|never|just)\s+(?:mess|screw|ruin|fail|get\s+(?:it|things|everything)"
    r"\s+wrong|do\s+anything\s+right|let\s+\w+\s+down)|"
    r"\b(?:i'?m|i\s+am)\s+(?:such\s+|just\s+|so\s+|completely\s+|totally\s+|a\s+|an\s+)*"
    r"(?:failure|loser|burden|disappointment|worthless|useless|stupid|pathetic|unlovable|"
    r"not\s+good\s+enough|idiot|disgusting|hopeless\s+case|waste\s+of\s+space)\b|"
    r"\b(?:it'?s|everything\s+is|it\s+was)\s+(?:all\s+)?my\s+fault\b|"
    r"\bi\s+(?:can'?t|cannot)\s+do\s+anything\s+right\b|"
    r"\bi\s+don'?t\s+deserve\b|\bno\s*(?:one|body)\s+(?:could|would|will)\s+(?:ever\s+)?love\s+me\b"
)
# A condition named as what one is ("I am depressed about..."): reflected as a feeling, so the
# reply never reads as a diagnosis (the response filter would replace it as one).
_SELF_LABEL = re.compile(
    r"(?i)^(?:i'?m|i\s+am)\s+(?:so\s+|really\s+|very\s+)?(depressed|anxious|traumati[sz]ed|"
    r"bipolar|ocd|manic|paranoid)\b"
)


def second_person(clause: str) -> str:
    """``clause`` with first-person words turned to the second person ("my dad" -> "your dad")."""
    text = clause
    for first, second in _PAIRS.items():
        text = re.sub(rf"(?i)\b{re.escape(first)}\b", second, text)
    return re.sub(
        r"(?i)\b(?:" + "|".join(_WORDS) + r")\b",
        lambda m: _WORDS[m.group(0).lower()],
        text,
    )


def _statement_clauses(text: str) -> list[str]:
    """The clauses of ``text``'s sentences that are not questions, in order."""
    clauses = []
    for sentence in re.findall(r"[^.!?;\n]+[.!?;\n]*", text or ""):
        if sentence.rstrip().endswith("?"):
            continue
        clauses += _CLAUSE_SPLIT.split(sentence)
    return clauses


def key_phrase(text: str) -> str | None:
    """The clause of ``text`` a reply can reflect, in the second person; ``None`` if none fits."""
    for raw in _statement_clauses((text or "").replace("\u2019", "'")):
        clause = " ".join((raw or "").split())
        while (stripped := _LEADING.sub("", clause, count=1).strip(" ,:-\"'")) != clause:
            clause = stripped
        clause = _TRAILING_HEDGE.sub("", clause).strip(" ,:-\"'")
        words = clause.split()
        if not (MIN_WORDS <= len(words) <= MAX_WORDS):
            continue
        if not _FIRST_PERSON.search(clause) or _ADDRESSES_ARI.search(clause):
            continue
        if _ONLY_FEELING.match(clause) or _INTENTION.match(clause):
            continue
        if _BAD_START.match(clause) or _NO_SITUATION.match(clause):
            continue
        if not _VERB_HINT.search(clause):
            continue
        label = _SELF_LABEL.match(clause)
        if label:
            clause = f"I have been feeling {label.group(1).lower()}" + clause[label.end() :]
        turned = second_person(clause)
        turned = turned[0].lower() + turned[1:] if turned[:1].isupper() else turned
        if _SELF_JUDGEMENT.search(clause):
            return f"part of you believes that {turned}"
        return turned
    return None


@lru_cache(maxsize=1)
def _topics() -> tuple[tuple[str, str, re.Pattern], ...]:
    data = yaml.safe_load(_TOPICS_FILE.read_text(encoding="utf-8"))
    return tuple(
        (
            entry["topic"],
            entry["noun"],
            re.compile(r"(?i)\b(?:" + "|".join(map(re.escape, entry["cues"])) + r")\b"),
        )
        for entry in data["topics"]
    )


def topic_of(text: str) -> tuple[str, str] | None:
    """``(topic, noun phrase for a reply)`` of the first topic whose cue appears, or ``None``."""
    for topic, noun, cues in _topics():
        if cues.search(text or ""):
            return topic, noun
    return None


def topic_ids() -> frozenset[str]:
    """The topics ``topics.yaml`` names."""
    return frozenset(topic for topic, _, _ in _topics())
