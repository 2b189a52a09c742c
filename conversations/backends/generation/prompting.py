"""The chat messages a model-based generator receives: persona, session context, history."""

from __future__ import annotations

from conversations.backends.base import GenerationRequest
from conversations.flows import STEP_INSTRUCTIONS

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


def system_prompt(request: GenerationRequest) -> str:
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
    if request.risk_level == "medium":
        context.append("The user may be at some risk: include one gentle question about safety.")
    context.append(
        "Never give medical, legal or diagnostic statements, never name phone numbers, hotlines "
        "or websites (the app shows vetted resources itself), never pressure the user."
    )
    lines.append("\n".join(line for line in context if line))
    return "\n\n".join(lines)


def chat_messages(request: GenerationRequest) -> list[dict]:
    messages = [{"role": "system", "content": system_prompt(request)}]
    for role, text in request.history[-HISTORY_TURNS:]:
        messages.append({"role": "assistant" if role == "assistant" else "user", "content": text})
    messages.append({"role": "user", "content": request.user_text})
    return messages
