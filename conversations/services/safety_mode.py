"""Safety-check mode: how an answer to the safety question is read, and what it leads to.

After an emergency reply the session stays in safety-check mode: every message is still
screened, and the mode ends only on an explicit answer that the user is safe ("I'm safe right
now", the suggested reply of that name, "yes" to the question, "I won't hurt myself"), or when a
clinician closes the escalation. Reading is conservative: negations, hedges ("not sure", "for
now, I guess"), sarcasm, "I'm fine." (which does not say *safe*) and "you misunderstood me" / "I
was joking" never end it; the last two get an acknowledgement and one clarifying question
instead of a second emergency (a known bypass in other products is exactly such a phrase).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from conversations.services.filter.cues import text_has_safety_question


class SafetyAnswer(StrEnum):
    SAFE = "safe"  # explicit: safety-check mode ends
    NOT_SAFE = "not_safe"
    RESOURCES = "resources"  # asks for the resources again
    MISUNDERSTOOD = "misunderstood"  # "you misunderstood me", "I was joking"
    UNCLEAR = "unclear"  # "I'm fine.", hedged or sarcastic: asked once more, explicitly
    OTHER = "other"  # anything else: the gentle safety check again


# One tap in the chat page (and the API's ``suggested_replies``); each reads as its answer.
SUGGESTED_SAFE = "I'm safe right now"
SUGGESTED_NOT_SAFE = "I'm not safe"
SUGGESTED_RESOURCES = "Show me the resources again"
SUGGESTED_REPLIES = [SUGGESTED_SAFE, SUGGESTED_NOT_SAFE, SUGGESTED_RESOURCES]

_RESOURCES = re.compile(
    r"(?i)\b(?:resources?|hotlines?|helplines?|crisis\s+lines?|(?:phone\s+)?numbers?\s+again|"
    r"who\s+(?:can|could|should|do)\s+i\s+(?:call|text|contact|talk\s+to)|"
    r"(?:talk|speak)\s+to\s+(?:someone|somebody|a\s+(?:person|human|counsell?or)))\b"
)
_MISUNDERSTOOD = re.compile(
    r"(?i)\bmisunderst(?:ood|and|anding)\b|\bmisread\b|\bgot\s+(?:it|me|that)\s+wrong\b|"
    r"\b(?:not|n'?t)\s+what\s+i\s+meant\b|\bdid\s*n'?t\s+mean\b|\bdid\s+not\s+mean\b|"
    r"\b(?:was|were|am|i'?m)\s+(?:just\s+)?(?:joking|kidding|being\s+sarcastic)\b|"
    r"\bjust\s+(?:joking|kidding)\b|\b(?:it\s+was\s+)?a\s+joke\b|\bjk\b|"
    r"\bfigure\s+of\s+speech\b|\bwrong\s+idea\b|\bover\s*react(?:ed|ing)?\b"
)
_NOT_SAFE = re.compile(
    r"(?i)(?:\bnot|n'?t|\bnever|\bno\s+longer|\bhardly|\bbarely)\s+(?:[\w']+\s+){0,3}?(?:safe|okay|ok|"
    r"fine|alright|good)\b|\bunsafe\b|\bin\s+danger\b|\bhelp\s+me\b|"
    r"^\W*(?:no|nope|nah|not\s+really)\b"
)
_HEDGED = re.compile(
    r"(?i)\bnot\s+(?:\w+\s+)?sure\b|\bi\s+guess\b|\bthink\b|\bi\s+suppose\b|\bmaybe\b|"
    r"\bprobably\b|\bkind\s+of\b|\bsort\s+of\b|\bkinda\b|\bsorta\b|\bidk\b|"
    r"\bi\s+(?:do\s*n'?t|do\s+not)\s+know\b|\bsomewhat\b|\bmostly\b|\bhopefully\b|"
    r"\bfor\s+now\b|\bat\s+the\s+moment\b|\bi\s+hope\b|\bwhatever\b|\?\s*$"
)
_SARCASTIC = re.compile(
    r"(?i)\byeah,?\s+right\b|\bsure,?\s+(?:sure|totally|whatever)\b|\btotally\b|\blol\b|"
    r"\blmao\b|/s\b|\bas\s+if\b|\boh\s+(?:yeah|sure)\b|\bsuper\s+(?:safe|fine)\b|"
    r"\bjust\s+peachy\b|\bnever\s+better\b|\.\.\.|🙃|🙄"
)
_FINE = re.compile(
    r"(?i)\b(?:i'?m|i\s+am|im|i\s+feel|feeling|all)\s+(?:\w+\s+)?(?:fine|ok|okay|alright|"
    r"all\s+right|good|better)\b|^\W*(?:fine|ok|okay|all\s+good|no\s+worries)\b"
)
_SAFE_BY_NEGATED_HARM = re.compile(
    r"(?i)\b(?:i'?m\s+not|i\s+am\s+not|not)\s+going\s+to\s+(?:hurt|harm|kill|do\s+anything\s+to)"
    r"\s+myself\b|\b(?:i\s+won'?t|i\s+will\s+not)\s+(?:hurt|harm|kill|do\s+anything\s+to)\s+"
    r"myself\b|\bi'?m\s+not\s+in\s+danger\b|\bi\s+am\s+not\s+in\s+danger\b"
)
_SAFE = re.compile(
    r"(?i)\b(?:i'?m|i\s+am|im|i\s+feel|i'?m\s+feeling|feeling)\s+(?:\w+\s+){0,2}?safe\b|"
    r"^\W*(?:yes|yeah|yep|yup|yes,?\s+i\s+am|i\s+am|safe)\b[\s,.!]*"
    r"(?:(?:(?:right\s+)?now|thanks?(?:\s+you)?|i\s+promise)[\s,.!]*)*$"
)


# The explicit "I'm safe" clause of an answer ("Yes, I'm safe right now,"), read apart from the
# rest of the message by the screen (``safe_answer_apart``).
_SAFE_CLAUSE = re.compile(
    r"(?i)(?:^|(?<=[.!?,;]))\s*(?:(?:yes|yeah|yep|yup)\b[\s,.!]*)?(?:i'?m|i\s+am|im|i\s+feel|"
    r"i'?m\s+feeling|feeling)\s+(?:\w+\s+){0,2}?safe(?:\s+(?:right\s+)?now)?\b[\s,.!]*"
)

# Courtesy after "I'm safe" ("thanks for asking", "thank you so much for checking in").
_COURTESY = re.compile(
    r"(?i)(?:(?:and\s+)?(?:thanks|thank\s+you|thx|ty|cheers)(?:\s+(?:so\s+much|a\s+lot|very\s+much))?"
    r"(?:\s+for\s+(?:asking|checking(?:\s+in)?|caring|your\s+concern|the\s+concern))?"
    r"|(?:i\s+)?appreciate\s+(?:you\s+asking|it|the\s+concern|your\s+concern))[\s,.!]*"
)


def safety_answer(text: str) -> SafetyAnswer:
    """How a message in safety-check mode answers the safety question. Any doubt: not safe."""
    text = (text or "").strip()
    if _RESOURCES.search(text):
        return SafetyAnswer.RESOURCES
    if _MISUNDERSTOOD.search(text):
        return SafetyAnswer.MISUNDERSTOOD
    if _SAFE_BY_NEGATED_HARM.search(text) and not (_HEDGED.search(text) or _SARCASTIC.search(text)):
        return SafetyAnswer.SAFE
    if _NOT_SAFE.search(text):
        return SafetyAnswer.NOT_SAFE
    if _HEDGED.search(text) or _SARCASTIC.search(text):
        return SafetyAnswer.UNCLEAR
    if _SAFE.search(text):
        return SafetyAnswer.SAFE
    if _FINE.search(text):
        return SafetyAnswer.UNCLEAR
    return SafetyAnswer.OTHER


def is_suggested_safe(text: str) -> bool:
    """The "I'm safe right now" suggested reply as offered (its button, or exactly its words):
    an explicit answer with nothing else in it. A classifier that reads it as high risk on its
    own does not keep the person in safety-check mode (the session stays flagged)."""
    return " ".join((text or "").lower().split()).rstrip(".!") == SUGGESTED_SAFE.lower()


def user_says_safe(text: str) -> bool:
    """Does the message say, explicitly and without doubt, that the user is safe right now?"""
    return safety_answer(text) is SafetyAnswer.SAFE


def safety_question_answered(history: Iterable[tuple[str, str]]) -> bool:
    """Did the user say they are safe after an earlier safety question in this session
    (``history``: (role, text), oldest first)? Nobody is asked twice."""
    asked = False
    for role, text in history:
        if role == "assistant":
            asked = text_has_safety_question(text)
        elif asked and user_says_safe(text):
            return True
    return False


def answers_safety_question(user_text: str, history: Iterable[tuple[str, str]]) -> bool:
    """Is ``user_text`` an explicit "I'm safe" answer to a safety question in Ari's last reply?"""
    last = next((text for role, text in reversed(list(history)) if role == "assistant"), "")
    return text_has_safety_question(last) and user_says_safe(user_text)


def safe_answer_apart(text: str) -> str | None:
    """What the safety screen reads of an explicit "I'm safe" answer: the rest of the message
    ("" when nothing else was said). None when ``text`` is no such answer (hedged, negated,
    sarcastic or safe only in other words: it is read whole).

    The words "I'm safe" themselves belong to risky conversations in the training data, so a
    model reads "I'm safe, thanks for asking" as high risk: the person who answers Ari's
    question would be sent the crisis response for answering it. Anything else they wrote is
    still read ("I'm safe right now but I still want to die" is read as "but I still want to
    die")."""
    if not user_says_safe(text):
        return None
    rest = _SAFE_CLAUSE.sub(" ", text)
    if rest == text:
        return None
    rest = " ".join(rest.split()).strip(" ,.!;")
    # Thanks for the question is no more to read than the answer itself: read with the story
    # before it, it would send the story's risk, already asked about and answered, back to the
    # crisis response.
    return "" if _COURTESY.fullmatch(rest) else rest


def safety_mode_end_by_clinician(*, session_id: int) -> bool:
    """A clinician closed the session's last open escalation: safety-check mode ends, with a
    calm message in the chat (the fixed ``safety_closed_text``). Call inside the closing
    transaction. Returns True when the session was in safety-check mode."""
    from django.utils import timezone

    from conversations.models import ChatSession, Message, SafetyResolution
    from conversations.selectors import fixed_replies_get

    ended = ChatSession.objects.filter(pk=session_id, safety_mode=True).update(
        safety_mode=False,
        safety_resolved_at=timezone.now(),
        safety_resolution=SafetyResolution.CLINICIAN_CLOSED,
    )
    if ended:
        fixed = fixed_replies_get()
        Message.objects.create(
            session_id=session_id,
            role=Message.Role.ASSISTANT,
            text=fixed.safety_closed_text,
            model_versions={"generator": "fixed"},
            provenance={"backend": "fixed", "kind": "safety_closed"},
        )
    return bool(ended)
