"""Session types and their flow steps: what Ari does on each step, and how a session moves on.

``gentle_deep`` follows validate -> consent -> story -> root belief -> reframe -> one
experiment -> close; it only goes past ``consent`` on an explicit yes. A clear no is respected
(the reply says so and the flow steps back to listening before it asks again); anything else
gets the consent question again. ``check_in`` and ``micro_practice`` are short flows of their
own. A session stores the step of its *next* reply.
"""

from __future__ import annotations

from conversations.understanding.answers import Answer, answer_kind, user_wants_to_close

FLOWS: dict[str, tuple[str, ...]] = {
    "check_in": ("mood", "reflect", "reflect_more", "close"),
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
CONSENT_REASK = "consent_reask"  # "not sure": asked once more, in other words

STEP_LABELS = {
    "mood": "How you are arriving",
    "reflect": "Reflecting",
    "validate": "Listening",
    "consent": "Checking in before going deeper",
    "consent_declined": "Going at your pace",
    "consent_reask": "Checking in before going deeper",
    "reflect_more": "Reflecting",
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
    "consent_reask": "The user is not sure about going deeper: ask once more in other words, "
    "offering to go slowly or simply to stay with it.",
    "reflect_more": "Ask one different, deeper reflective question: what they notice in their "
    "body or thoughts, or what they need.",
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

# One-tap answers offered under a reply on these steps (buttons on the page, and the API's
# ``suggested_replies``). Each is read by ``conversations.understanding.answers`` as the answer
# it says (tests/conversations/test_flow_suggestions.py): "Not right now" is a no, and so on.
SUGGESTED_REPLIES = {
    "consent": ("Yes, let's look at it", "Not right now", "I'm not sure"),
    "consent_reask": ("Yes, slowly", "Not today"),
    "invite": ("I'm ready", "Tell me a bit more first"),
    "practice": ("Done", "Can we go slower?"),
    "experiment": ("That feels doable", "Something smaller, please"),
}

# How many replies a step gets before the flow moves on, by session length preference.
_STEP_TURNS = {
    "short": {},
    "standard": {"practice": 2},
    "long": {"story": 2, "root_belief": 2, "reflect": 2, "practice": 3},
}


def flow_first_step(session_type: str) -> str:
    return FLOWS[session_type][0]


def flow_step_for_reply(
    *, session_type: str, stored_step: str, previous_step: str, user_text: str
) -> str:
    """The step the reply to ``user_text`` is written for.

    After Ari asked for consent, the user's answer decides: yes, or simply going on talking,
    moves on (``story``); a no is respected (``consent_declined``); "not sure" gets one re-ask
    in other words (``consent_reask``), and a second "not sure" is taken as a no. A check-in
    closes when the user signals it, never on an answer to Ari's own question.
    """
    steps = FLOWS[session_type]
    step = stored_step if stored_step in steps else steps[0]
    if previous_step in ("consent", CONSENT_REASK):
        answer = answer_kind(user_text)
        if answer in (Answer.YES, Answer.CONTENT):
            return steps[steps.index("consent") + 1]
        if answer is Answer.UNSURE and previous_step == "consent":
            return CONSENT_REASK
        return CONSENT_DECLINED
    if session_type == "check_in" and previous_step and user_wants_to_close(user_text):
        return "close"
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
    if step in ("consent", CONSENT_REASK):
        return steps[steps.index("consent") + 1]
    if step == CONSENT_DECLINED or step not in steps:
        return steps[0]
    wanted = _STEP_TURNS.get(session_length, {}).get(step, 1)
    if replies_on_step < wanted:
        return step
    index = steps.index(step)
    return steps[min(index + 1, len(steps) - 1)]
