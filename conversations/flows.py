"""Session types and their flow steps: what Ari does on each step, and how a session moves on.

``gentle_deep`` follows validate -> consent -> story -> root belief -> reframe -> one
experiment -> close; it only goes past ``consent`` on a yes (or the user simply going on). A
clear no is respected (the reply says so and the flow steps back to listening before it asks
again); "not sure" gets the consent question once more in other words. It never asks what was
already answered: a user who says they are ready to look before being asked has consented, and
a user who has already told their story (``STORY_TOLD_WORDS``) is not asked for a moment again.
``check_in`` and ``micro_practice`` are short flows of their own. A session stores the step of
its *next* reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from conversations.understanding.answers import (
    Answer,
    answer_kind,
    user_is_ready_to_look,
    user_wants_to_close,
)

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
# Steps whose question the next user message answers (``flow_step_for_reply`` reads it).
ANSWER_READ_STEPS = ("consent", CONSENT_REASK)

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


# Words of telling (messages that are not a yes, no or "not sure") the user has written before
# consenting that count as their story already told: the deep dive then goes from consent
# straight to the belief underneath.
STORY_TOLD_WORDS = 35


def told_words(user_texts: Sequence[str]) -> int:
    """How many words of ``user_texts`` tell something (answers to Ari's questions do not)."""
    return sum(len(text.split()) for text in user_texts if answer_kind(text) is Answer.CONTENT)


def flow_first_step(session_type: str) -> str:
    return FLOWS[session_type][0]


def flow_step_for_reply(
    *,
    session_type: str,
    stored_step: str,
    previous_step: str,
    user_text: str,
    earlier_user_texts: Sequence[str] = (),
) -> str:
    """The step the reply to ``user_text`` is written for (``earlier_user_texts``: the user's
    messages in the session before it).

    After Ari asked for consent, the user's answer decides: yes, or simply going on talking,
    moves on (``story``, or ``root_belief`` when the story was already told); a no is respected
    (``consent_declined``); "not sure" gets one re-ask in other words (``consent_reask``), and a
    second "not sure" is taken as a no. A yes that says the user is ready to look, given while
    Ari is still listening, is consent already given. A check-in closes when the user signals
    it, never on an answer to Ari's own question.
    """
    steps = FLOWS[session_type]
    step = stored_step if stored_step in steps else steps[0]
    if "consent" in steps:
        after_consent = steps[steps.index("consent") + 1]
        if told_words(earlier_user_texts) >= STORY_TOLD_WORDS:
            after_consent = steps[steps.index(after_consent) + 1]
        if previous_step in ("consent", CONSENT_REASK):
            answer = answer_kind(user_text)
            if answer in (Answer.YES, Answer.CONTENT):
                return after_consent
            if answer is Answer.UNSURE and previous_step == "consent":
                return CONSENT_REASK
            return CONSENT_DECLINED
        if step == "consent" and user_is_ready_to_look(user_text):
            return after_consent
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
