"""What the response filter reads in a text besides the hard lines: whether the user expresses
distress, whether a reply validates, whether it asks about safety."""

from __future__ import annotations

import re

_DISTRESS_RX = re.compile(
    r"(?i)\b(?:sad|sadness|depressed|hopeless|helpless|worthless|useless|anxious|anxiety|"
    r"panic\w*|scared|afraid|terrified|overwhelm\w*|stressed|stressful|exhausted|tired\s+of|"
    r"lonely|(?:so|all|feel|feeling|felt)\s+alone|isolated|hurting|hurts|it\s+hurt|pain|"
    r"painful|cry|crying|cried|tears|grief|griev\w*|(?:feel|feeling|felt)\s+(?:lost|empty|"
    r"numb|low|down|awful|terrible|horrible|broken|stuck|small)|so\s+down|empty|numb|awful|"
    r"terrible|horrible|miserable|broken|ashamed|shame|guilty|guilt|angry|furious|rage|"
    r"frustrated|upset|struggl\w*|can'?t\s+cope|cannot\s+cope|falling\s+apart|not\s+okay|"
    r"not\s+ok|heartbroken|devastated|failure|worried|worry|worrying|nervous|dread\w*|"
    r"burn(?:ed|t)\s*out|want\s+to\s+die|give\s+up|giving\s+up|no\s+point|can'?t\s+go\s+on|"
    r"suicid\w*|self[-\s]harm|rough\s+(?:day|week|time)|hard\s+time|bad\s+day|"
    r"not\s+good\s+enough|hate\s+myself|unlovable|too\s+much)\b"
)
_VALIDATION_RX = re.compile(
    r"(?i)(?:\b(?:that|this|it|which)\s+(?:sounds|seems|must\s+(?:be|feel)|feels|is\s+"
    r"(?:a\s+lot|so\s+hard|really\s+hard|hard|heavy|painful|tough|understandable))|"
    r"\bsounds\s+(?:like|really|so|incredibly|very)|\bi\s+(?:can\s+)?(?:hear|see|sense|"
    r"imagine)\b|\bi'?m\s+(?:so\s+|really\s+|truly\s+|very\s+)?(?:sorry|glad\s+you|"
    r"here\s+with\s+you|really\s+glad)|\bthank\s+you\s+for\s+(?:sharing|telling|trusting|"
    r"letting|being|reaching|saying|opening)|\b(?:it|that)\s+makes\s+(?:a\s+lot\s+of\s+|so\s+"
    r"much\s+|complete\s+|total\s+)?sense|\bmakes\s+(?:a\s+lot\s+of\s+|so\s+much\s+)?sense|"
    r"\bit'?s\s+(?:understandable|okay\s+to|ok\s+to|natural|human|completely\s+"
    r"understandable|no\s+wonder)|\bno\s+wonder\b|\bof\s+course\s+you|\byou'?re\s+not\s+alone|"
    r"\bthat'?s\s+(?:a\s+lot|so\s+hard|really\s+hard|hard|heavy|painful|tough|"
    r"understandable|completely\s+understandable)|\bwhat\s+a\s+(?:heavy|hard|painful|tough)|"
    r"\byou'?ve\s+been\s+carrying|\bthank\s+you\b|\bi'?m\s+(?:still\s+|right\s+)?here\b|\bhow\s+(?:hard|painful|"
    r"heavy|exhausting)|\byour\s+feelings\s+(?:are|make)|\bfeeling\s+\w+\s+makes\s+sense)"
)
# A sentence that names how something feels or weighs ("is an exhausting loop", "would make
# anyone angry", "lovely news") validates too, in words of its own.
_EMPATHIC_RX = re.compile(
    r"(?i)\b(?:hard(?:er|est)?|heavy|painful|hurt(?:s|ing)?|ache|aching|sore|raw|tender|"
    r"exhausting|draining|tiring|wearing|frightening|scary|frustrating|discouraging|"
    r"upsetting|unsettling|overwhelming|lonely|loneliness|sadness|grief|brave|courage|"
    r"lovely|wonderful|glad|relief|relieved|proud|sad|upset|angry|anger|furious|scared|"
    r"afraid|fear|frightened|nervous|nerves|worry|worried|anxious|panicky|horrible|terrible|"
    r"awful|embarrass\w*|ashamed|shame|guilt|guilty|hopeless|helpless|left\s+out|excit\w*|"
    r"happy|chuffed|understandable|harsh|(?:completely|totally|perfectly)\s+okay|"
    r"makes?\s+(?:\w+\s+)?sense|(?:would|could|can)\s+(?:\w+\s+)?"
    r"(?:anyone|anybody)|(?:is|are|be)\s+allowed|okay\s+to\s+feel|a\s+lot\s+to\s+carry)\b"
)
_GREETING_RX = re.compile(
    r"(?i)^\W*(?:hi|hello|hey|welcome|good\s+(?:morning|afternoon|evening))\b[\w\s,']{0,24}"
    r"[.!]?\s*$"
)
_SAFETY_QUESTION_RX = re.compile(
    r"(?i)(?:\bsafe\b[^.!?\n]*\?|\bare\s+you\s+(?:thinking|having\s+thoughts)\s+(?:about|of)\s+"
    r"(?:ending|hurting|harming|suicide)[^.!?\n]*\?)"
)


def user_expresses_distress(text: str) -> bool:
    return bool(_DISTRESS_RX.search(text or ""))


def text_validates(text: str) -> bool:
    return bool(_VALIDATION_RX.search(text or "") or _EMPATHIC_RX.search(text or ""))


def is_greeting(sentence: str) -> bool:
    """A short greeting on its own ("Hi, welcome.", "Hello, and welcome home.")."""
    return bool(_GREETING_RX.match(sentence or ""))


def text_has_safety_question(text: str) -> bool:
    return bool(_SAFETY_QUESTION_RX.search(text or ""))
