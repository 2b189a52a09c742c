"""The chat messages a model-based generator receives: persona, session context, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conversations.backends.base import GenerationRequest
from conversations.flows import STEP_INSTRUCTIONS
from conversations.understanding.message import Understanding, understand

SESSION_TYPE_DESCRIPTIONS = {
    "check_in": "a short mood check-in",
    "gentle_deep": (
        "a gentle deep dive (validate, ask consent, the story, the root belief, a reframe, "
        "one practical experiment, close)"
    ),
    "micro_practice": "a short guided grounding or breathing practice",
}
LENGTH_GUIDANCE = {
    "short": "Keep the reply to 2 sentences.",
    "standard": "Keep the reply to 2-4 sentences.",
    "long": "Keep the reply to 3-4 sentences.",
}
TONE_GUIDANCE = {
    "gentle": "Tone: gentle and soft.",
    "warm": "Tone: warm and encouraging.",
    "direct": "Tone: calm, clear and direct, still kind.",
}
HISTORY_TURNS = 12
EXAMPLES = 2  # approved replies for the step shown to the model
_ANSWERS = {
    "yes": "They said yes to your last question: move on, do not ask it again.",
    "no": "They said no to your last question: respect it fully and do not ask it again now.",
    "unsure": "They are not sure about your last question: ask once more in other words, "
    "offering to go slowly.",
    "content": "They answered your last question by telling you more: build on what they said.",
}
_REQUESTS = {
    "resources": "They asked to see support services: say warmly that some are listed just below "
    "your message, as an option; never write any service's name, number or address yourself.",
    "advice": "They asked what to do: acknowledge the question honestly; do not prescribe, offer "
    "to think through their options together.",
    "vent": "They want to be listened to: say you are here to listen, no advice or fixing.",
    "normal": "They asked whether their feeling is normal: answer kindly and directly that it "
    "makes sense and many people feel it; no diagnosis.",
}


def understanding_lines(understood: Understanding, mask: Callable[[str], str] = str) -> list[str]:
    """What Ari understood of the message, as instructions the reply must follow; ``mask``
    is applied to the user's own words (an untrusted server gets them masked)."""
    lines = []
    if understood.feeling != "mixed":
        lines.append(
            f"The user seems to feel {understood.feeling}: name that feeling gently "
            "(without insisting on the word) before anything else."
        )
    if understood.phrase:
        lines.append(
            f'Reflect their situation in their own words, for example "{mask(understood.phrase)}".'
        )
    if understood.topic:
        lines.append(f"It is about {mask(understood.topic[1])}.")
    if understood.answer:
        lines.append(_ANSWERS[understood.answer])
    if understood.request:
        lines.append(_REQUESTS[understood.request])
    return lines


def approved_examples(request: GenerationRequest, k: int = EXAMPLES) -> list[tuple[str, str]]:
    """Up to ``k`` (user, reply) pairs clinicians approved for this session type and step."""
    from conversations.backends.generation.approved import approved_index_get

    try:
        index = approved_index_get()
    except Exception:  # no database or no approved content: the prompt goes without examples
        return []
    indexes, match = index.candidates(request.session_type, request.flow_step)
    if match not in ("step", "step_other_type"):
        return []
    pairs = [index.pairs[i] for i in indexes if not index.pairs[i].is_template]
    return [(p.user_text, p.reply) for p in pairs[:k]]


def system_prompt(request: GenerationRequest, mask: Callable[[str], str] = str) -> str:
    lines = [request.persona.strip()] if request.persona.strip() else []
    kind = SESSION_TYPE_DESCRIPTIONS.get(request.session_type, request.session_type)
    context = [f"Session type: {kind}."]
    if request.flow_step:
        context.append(
            f"Current step: {request.flow_step}. {STEP_INSTRUCTIONS.get(request.flow_step, '')}"
        )
    prefs = request.preferences or {}
    context.append(LENGTH_GUIDANCE.get(prefs.get("session_length", "standard"), ""))
    context.append(TONE_GUIDANCE.get(prefs.get("tone", "gentle"), ""))
    if request.previous_summary:
        context.append(f"Summary of the user's previous session: {request.previous_summary}")
    context.extend(understanding_lines(understand(request.user_text, request.history), mask))
    if request.risk_level == "medium":
        context.append("The user may be at some risk: include one gentle question about safety.")
    context.append(
        "Never give medical, legal or diagnostic statements, never name phone numbers, hotlines "
        "or websites (the app shows vetted resources itself), never pressure the user."
    )
    lines.append("\n".join(line for line in context if line))
    examples = approved_examples(request)
    if examples:
        shown = "\n\n".join(f"User: {user}\nAri: {reply}" for user, reply in examples)
        lines.append(
            "Replies clinicians approved for this step (for their manner; never copy them "
            f"word for word, answer this user):\n\n{shown}"
        )
    return "\n\n".join(lines)


def chat_messages(
    request: GenerationRequest, mask: Callable[[str], str] = str
) -> list[dict[str, Any]]:
    """The system prompt (``mask`` applied to what in it comes from the user), the history and
    the new message."""
    messages = [{"role": "system", "content": system_prompt(request, mask)}]
    for role, text in request.history[-HISTORY_TURNS:]:
        messages.append({"role": "assistant" if role == "assistant" else "user", "content": text})
    messages.append({"role": "user", "content": request.user_text})
    return messages
