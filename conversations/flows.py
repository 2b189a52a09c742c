"""Session types and their flow steps: what Ari does on each step, and how a session moves on.

``gentle_deep`` follows validate -> consent -> story -> root belief -> reframe -> one
experiment -> close; it only goes past ``consent`` on an explicit yes. A clear no is respected
(the reply says so and the flow steps back to listening before it asks again); anything else
gets the consent question again. ``check_in`` and ``micro_practice`` are short flows of their
own. A session stores the step of its *next* reply.
"""

from __future__ import annotations

import re

FLOWS: dict[str, tuple[str, ...]] = {
    "check_in": ("mood", "reflect", "close"),
    "gentle_deep": (
        "validate",
        "consent",
        "story",
        "root_belief",
        "reframe",
        "experiment",
        "close",
    ),
    "micro_practice": ("invite", "practice", "close"),
}

CONSENT_DECLINED = "consent_declined"

STEP_LABELS = {
    "mood": "How you are arriving",
    "reflect": "Reflecting",
    "validate": "Listening",
    "consent": "Checking in before going deeper",
    "consent_declined": "Going at your pace",
    "story": "The story",
    "root_belief": "The belief underneath",
    "reframe": "Another way to see it",
    "experiment": "One small experiment",
    "invite": "Getting ready",
    "practice": "Practice",
    "close": "Closing",
}

# What the reply on each step should do: given to model-based generators with the persona.
STEP_INSTRUCTIONS = {
    "mood": "Welcome the user and reflect how they are arriving today; ask one gentle question "
    "about their mood.",
    "reflect": "Reflect back what you heard in their mood check-in and ask what would help "
    "them most today.",
    "validate": "Validate what the user shares before anything else. Do not probe yet.",
    "consent": "Ask for consent before going deeper, e.g. 'Are you ready to look at this "
    "together?'. If they are not ready, respect it fully and stay with them.",
    "consent_declined": "The user is not ready to go deeper: respect it warmly, without asking "
    "again now, and stay with how they feel.",
    "story": "Invite the story: ask for a recent, concrete moment when this feeling showed up.",
    "root_belief": "Gently explore the belief underneath the story (what it says about them), "
    "with one reflective question.",
    "reframe": "Offer a kinder, truer way to see the belief, framed as a question or an "
    "invitation, never as a correction.",
    "experiment": "Suggest exactly one small, practical experiment for the coming days and ask "
    "if it feels doable.",
    "close": "Close warmly: appreciate what they shared and summarise it in a sentence.",
    "invite": "Invite a short grounding or breathing practice and ask if they would like to begin.",
    "practice": "Guide a short grounding or breathing practice, one step at a time.",
}

# How many replies a step gets before the flow moves on, by session length preference.
_STEP_TURNS = {
    "short": {},
    "standard": {"practice": 2},
    "long": {"story": 2, "root_belief": 2, "reflect": 2, "practice": 3},
}

_YES = re.compile(
    r"(?i)^\s*(?:yes|yeah|yea|yep|yup|sure|ok(?:ay)?|ready|alright|all\s+right|i\s+think\s+so|"
    r"let'?s|go\s+ahead|please|definitely|absolutely|i'?m\s+ready|i\s+am\s+ready|s[ií]|ja)\b"
    r"|\b(?:i'?m|i\s+am)\s+ready\b|\blet'?s\s+(?:do|look|try|go)\b|\bready\s+to\s+look\b"
)
_NO = re.compile(
    r"(?i)^\s*(?:no|nope|nah|not)\b|\bnot\s+(?:yet|ready|now|today|really|sure|right\s+now)\b|"
    r"\b(?:i'?d|i\s+would)\s+rather\s+not\b|\bdon'?t\s+want\s+to\b|\bmaybe\s+later\b|"
    r"\bcan\s+we\s+not\b|\bstop\b|\bi'?m\s+not\b|\btoo\s+much\b|\bscared\s+to\b"
)


def flow_first_step(session_type: str) -> str:
    return FLOWS[session_type][0]


def user_gives_consent(text: str) -> bool:
    """An explicit yes, and no sign of a no ("yes, but not today" is a no)."""
    return bool(_YES.search(text or "")) and not _NO.search(text or "")


def user_declines(text: str) -> bool:
    return bool(_NO.search(text or "")) and not user_gives_consent(text)


def flow_step_for_reply(
    *, session_type: str, stored_step: str, previous_step: str, user_text: str
) -> str:
    """The step the reply to ``user_text`` is written for.

    After Ari asked for consent, the flow goes deeper only on an explicit yes. A clear no gets a
    reply on ``consent_declined``; anything else is asked again (``consent``).
    """
    steps = FLOWS[session_type]
    step = stored_step if stored_step in steps else steps[0]
    if previous_step == "consent" and step != "consent" and not user_gives_consent(user_text):
        return CONSENT_DECLINED if user_declines(user_text) else "consent"
    return step


def flow_next_step(
    *,
    session_type: str,
    step: str,
    replies_on_step: int,
    session_length: str = "standard",
) -> str:
    """The step stored for the next reply, after a reply on ``step`` (``replies_on_step``
    counts replies on it so far, this one included). A declined consent steps back to the
    start of the flow (listening) before consent is asked again."""
    steps = FLOWS[session_type]
    if step == CONSENT_DECLINED or step not in steps:
        return steps[0]
    if step == "consent":
        return steps[steps.index("consent") + 1]
    wanted = _STEP_TURNS.get(session_length, {}).get(step, 1)
    if replies_on_step < wanted:
        return step
    index = steps.index(step)
    return steps[min(index + 1, len(steps) - 1)]
