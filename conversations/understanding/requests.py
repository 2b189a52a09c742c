"""What a user asks of Ari in a message, besides telling how they feel: advice ("what should I
do?"), just to be listened to ("I just need to vent"), or whether their feeling is normal ("am I
overreacting?"). The reply answers it before the flow's move (``reply_bank``'s ``request`` slot).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Request(StrEnum):
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


def request_of(text: str) -> Request | None:
    """What ``text`` asks of Ari, if anything besides being heard."""
    for request, pattern in _REQUESTS:
        if pattern.search(text or ""):
            return request
    return None
