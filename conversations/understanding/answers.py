"""How a user's message answers the question Ari just asked: yes, no, not sure, or content.

Content (the person simply goes on talking) counts as consent to continue. Conservative where it
matters: "yes, but not today" is a no; "I guess" is not sure.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"
    CONTENT = "content"


_UNSURE = re.compile(
    r"(?i)\bnot\s+sure\b|\bmaybe\b|\b(?:don'?t|do\s+not)\s+(?:really\s+)?know\b|\bidk\b|\bi\s+guess\b|"
    r"\bkind\s+of\b|\bsort\s+of\b|\bperhaps\b|\bunsure\b|\bhmm+\b|\bnot\s+certain\b|"
    r"\bi'?m\s+(?:a\s+bit\s+)?(?:nervous|scared|afraid)\s+to\b"
)
_NO = re.compile(
    r"(?i)^\W*(?:no|nope|nah|not\s+really)\b|\bnot\s+(?:yet|now|today|ready|right\s+now)\b|"
    r"\b(?:i'?d|i\s+would)\s+rather\s+not\b|\b(?:don'?t|do\s+not)\s+want\s+to\b|\bmaybe\s+later\b|"
    r"\bcan\s+we\s+not\b|\bi'?m\s+not\s+ready\b|\bskip\s+(?:it|that)\b"
)
_YES = re.compile(
    r"(?i)^\W*(?:yes|yeah|yea|yep|yup|sure|ok(?:ay)?|alright|all\s+right|definitely|absolutely|"
    r"please|let'?s|go\s+ahead|of\s+course|sounds\s+good|i'?m\s+ready|i\s+am\s+ready|ready)\b|"
    r"\b(?:i'?m|i\s+am)\s+ready\b|\blet'?s\s+(?:do|look|try|go)\b|\bi'?d\s+like\s+(?:that|to)\b"
)


def answer_kind(text: str) -> Answer:
    """How ``text`` answers a yes/no question such as "Shall we look at it together?"."""
    text = (text or "").strip()
    if _NO.search(text):
        return Answer.NO
    if _UNSURE.search(text):
        return Answer.UNSURE
    if _YES.search(text):
        return Answer.YES
    return Answer.CONTENT


_READY_TO_LOOK = re.compile(
    r"(?i)\bready\b|\blet'?s\s+(?:do|look|try|go|explore|dig|talk\s+about)\b|"
    r"\b(?:want|like|would\s+like)\s+to\s+(?:look|explore|understand|dig|go\s+deeper)\b|"
    r"\bi'?d\s+like\s+that\b"
)


def user_is_ready_to_look(text: str) -> bool:
    """Does a yes say the user is ready to look at it ("Yes, I'm ready to look at it"), rather
    than only agreeing ("ok")? Asked before Ari asks, it is consent already given."""
    return answer_kind(text) is Answer.YES and bool(_READY_TO_LOOK.search(text or ""))


_CLOSING = re.compile(
    r"(?i)\b(?:bye|goodbye|good\s+night|gotta\s+go|got\s+to\s+go|have\s+to\s+go|need\s+to\s+go|"
    r"that'?s\s+(?:all|it|enough)(?:\s+for\s+(?:now|today))?|i'?m\s+done\s+for\s+(?:now|today)|"
    r"talk\s+(?:to\s+you\s+)?(?:later|soon|tomorrow)|see\s+you|let'?s\s+(?:stop|end)\s+(?:here|"
    r"there|for\s+(?:now|today)))\b"
)


def user_wants_to_close(text: str) -> bool:
    """Does the user signal the end of the conversation ("that's all for today", "bye")?"""
    return bool(_CLOSING.search(text or ""))
