"""What a user asks of Ari in a message, besides telling how they feel: support services (asked
for, or a yes to Ari's offer to show some), advice ("what should I do?"), just to be listened to
("I just need to vent"), or whether their feeling is normal ("am I overreacting?"). The reply
answers it before the flow's move (``reply_bank``'s ``request`` slot); services asked for are
shown with the reply (the crisis catalogue's, whichever backend wrote it).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Request(StrEnum):
    RESOURCES = "resources"
    ADVICE = "advice"
    VENT = "vent"
    NORMAL = "normal"


# First match wins: a user who wants only to vent is not asked for options.
_REQUESTS = (
    (
        Request.VENT,
        re.compile(
            r"(?i)\bvent(?:ing)?\b|\bjust\s+(?:need|want)\s+(?:someone\s+)?to\s+(?:talk|listen|be\s+heard)"
            r"|\bjust\s+(?:need|want)\s+someone\s+to\s+(?:talk\s+to|listen)\b|\bjust\s+listen\b"
            r"|\bget\s+(?:it|this|things)\s+off\s+my\s+chest\b|\bdon'?t\s+(?:need|want)\s+advice\b"
        ),
    ),
    (
        Request.NORMAL,
        re.compile(
            r"(?i)\bis\s+(?:it|that|this)\s+(?:normal|okay|ok|weird|silly|stupid)\s+(?:to|that)\b"
            r"|\bis\s+(?:this|that|it)\s+normal\b|\bam\s+i\s+(?:overreacting|being\s+(?:silly|"
            r"stupid|dramatic|ridiculous|unreasonable)|crazy|weird|wrong\s+to)\b"
            r"|\bwhat'?s\s+wrong\s+with\s+me\b|\bwhy\s+(?:do|am)\s+i\s+(?:like\s+this|feel(?:ing)?\s+"
            r"like\s+this|so\s+(?:sensitive|weak))\b"
        ),
    ),
    (
        Request.ADVICE,
        re.compile(
            r"(?i)\bwhat\s+(?:should|can|do|could)\s+i\s+(?:do|try)\b|\bany\s+(?:other\s+)?(?:advice|"
            r"tips?|suggestions?|ideas?)\b|\b(?:need|want|give\s+me|have)\s+(?:some\s+|an\s+|any\s+)?"
            r"(?:advice|suggestions|tips)\b|\bhow\s+(?:do|can|should|could)\s+i\b"
            r"|\bwhat\s+(?:do\s+you\s+think\s+)?i\s+should\b|(?:^|[.!?]\s*)should\s+i\b"
            r"|\bwhat\s+would\s+you\s+(?:do|suggest|recommend)\b|\bwhat\s+do\s+you\s+(?:suggest|"
            r"recommend)\b|\bcan\s+you\s+help\s+me\b"
        ),
    ),
)


_ASKS_FOR_RESOURCES = re.compile(
    r"(?i)\b(?:show|give|send|share|tell)\s+me\s+(?:the\s+|those\s+|some\s+|a\s+few\s+|any\s+)?"
    r"(?:services|resources|options|support|helplines?|hotlines?|numbers|places|people)\b"
    r"|\b(?:can|could|would)\s+you\s+(?:show|give|share|send)\s+(?:me\s+)?(?:the\s+|those\s+|some\s+)?"
    r"(?:services|resources|helplines?|hotlines?|numbers|support)\b"
    r"|\bwho\s+(?:can|could|should)\s+i\s+(?:call|ring|text|contact|talk\s+to|reach\s+out\s+to)\b"
    r"|\b(?:where|how)\s+(?:can|could|do)\s+i\s+(?:find|get)\s+(?:some\s+|real\s+)?(?:help|support)\b"
)
# Ari's offer to show support services ("If you'd like, I can show you some services..."): a
# sentence in which Ari offers to show, share or point to them.
_OFFER_VERB = re.compile(r"(?i)\b(?:show|share|point|bring\s+up|give|ask\s+me\s+for)\b")
_OFFER_OBJECT = re.compile(r"(?i)\b(?:services|support|people|options|resources|someone)\b")
_OFFER_SPEAKER = re.compile(r"(?i)\b(?:i|i'm|i'd|i'll|me)\b")


_SAYS_SAFE = re.compile(
    r"(?i)\b(?:safe|fine|okay|ok|alright|all\s+right)\b(?!\s*,?\s*(?:show|please))"
)


def offers_resources(reply: str) -> bool:
    """Did Ari's reply offer to show support services?"""
    return any(
        _OFFER_VERB.search(sentence)
        and _OFFER_OBJECT.search(sentence)
        and _OFFER_SPEAKER.search(sentence)
        for sentence in re.split(r"(?<=[.!?])\s+", reply or "")
    )


def wants_resources(text: str, last_reply: str = "") -> bool:
    """Does ``text`` ask for support services, or say yes to Ari's offer (``last_reply``) to
    show some?"""
    from conversations.understanding.answers import Answer, answer_kind

    if _ASKS_FOR_RESOURCES.search(text or ""):
        return True
    # "Yes, I'm safe" answers the safety question asked beside the offer, not the offer.
    return (
        offers_resources(last_reply)
        and answer_kind(text) is Answer.YES
        and not _SAYS_SAFE.search(text or "")
    )


def request_of(text: str, last_reply: str = "") -> Request | None:
    """What ``text`` asks of Ari, if anything besides being heard (``last_reply``: Ari's reply
    before it)."""
    if wants_resources(text, last_reply):
        return Request.RESOURCES
    for request, pattern in _REQUESTS:
        if pattern.search(text or ""):
            return request
    return None
