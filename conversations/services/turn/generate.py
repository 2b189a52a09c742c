"""Stage 4, generate: the words of the reply, for the route the turn took.

Safety routes get fixed, admin-written texts (never generated), with the catalogue's crisis
resources and the suggested replies of safety-check mode. A reply on a flow step comes from the
active generator through ``generation_run`` (deadline, circuit breaker); when it cannot answer,
approved content serves and the reason is recorded; when that fails too, the fixed
last-resort text. Medium risk adds a gentle safety question to a generated reply.
"""

from __future__ import annotations

import logging
import time

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import (
    GenerationError,
    generation_run,
    get_fallback_generator,
    get_generator,
)
from conversations.backends.generation.composed import safety_question_answered
from conversations.models import ChatSession, Intent, RiskLevel
from conversations.selectors import crisis_resource_snapshots, persona_prompt_get_active
from conversations.services.filter import text_has_safety_question
from conversations.services.safety_mode import SUGGESTED_REPLIES
from conversations.services.turn.route import Route, RouteKind
from conversations.services.turn.state import Turn, ms_since

logger = logging.getLogger(__name__)

# The fixed text of each safety route (fields of EmergencyReply).
_FIXED_TEXT = {
    RouteKind.EMERGENCY: "text",
    RouteKind.SAFETY_REMINDER: "safety_reminder_text",
    RouteKind.SAFETY_RESOURCES: "safety_mode_text",
    RouteKind.SAFETY_CLARIFY: "safety_clarify_text",
    RouteKind.SAFETY_CHECK: "safety_mode_text",
    RouteKind.SAFETY_RESOLVED: "safety_resolved_text",
}


def generate(
    route: Route,
    *,
    session: ChatSession,
    user_text: str,
    history,
    risk_level: str,
    fixed,
    generator,
    turn: Turn,
    risk_category: str = "",
) -> str:
    """The reply's words before the filter; safety routes also set resources, suggested replies,
    the intent and entering or leaving safety-check mode on ``turn``."""
    if route.fixed:
        return _fixed(route, session=session, fixed=fixed, turn=turn)
    turn.flow_step = route.flow_step
    turn.next_flow_step = route.next_flow_step
    persona = persona_prompt_get_active()
    turn.model_versions["persona"] = f"v{persona.version}" if persona else "none"
    request = GenerationRequest(
        user_text=user_text,
        session_type=session.session_type,
        flow_step=route.flow_step,
        persona=persona.text if persona else "",
        history=tuple((role, text) for role, text, _, _ in history),
        preferences=dict(session.preferences or {}),
        previous_summary=session.previous_summary,
        risk_level=risk_level,
        risk_category=risk_category,
    )
    text = _generated(generator, request, turn, fixed)
    if (
        risk_level == RiskLevel.MEDIUM
        and not text_has_safety_question(text)
        and not safety_question_answered(request.history)  # nobody is asked twice
    ):
        text = f"{text.rstrip()} {fixed.medium_risk_text.strip()}"
        turn.provenance["safety_check_added"] = True
    return text


def _fixed(route: Route, *, session: ChatSession, fixed, turn: Turn) -> str:
    kind = route.kind
    turn.model_versions["generator"] = "fixed"
    turn.provenance.update({"backend": "fixed", "kind": str(kind)})
    if fixed.pk:
        turn.provenance["fixed_reply_id"] = fixed.pk
    turn.resources = crisis_resource_snapshots(locale=session.locale)
    if kind is RouteKind.SAFETY_RESOLVED:
        turn.leave_safety_mode = True
    else:
        turn.suggested_replies = list(SUGGESTED_REPLIES)
        turn.intent, turn.intent_score = Intent.SAFETY_CHECK, 1.0
    if kind in (RouteKind.EMERGENCY, RouteKind.SAFETY_REMINDER):
        turn.emergency = True  # the answer to a high-risk (or "I'm not safe") message
    if kind is RouteKind.EMERGENCY:
        turn.enter_safety_mode = True
        turn.intent = Intent.EMERGENCY
    return getattr(fixed, _FIXED_TEXT[kind])


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, GenerationError) else f"error:{type(exc).__name__}"


def _generated(generator, request: GenerationRequest, turn: Turn, fixed) -> str:
    """The active generator, then approved content, then the fixed last-resort text."""
    start = time.perf_counter()
    primary = generator or get_generator()
    try:
        reply = generation_run(primary, request)
    except Exception as exc:
        reason = _reason(exc)
        logger.warning("generator failed backend=%s reason=%s", primary.name, reason)
        turn.provenance.update({"fallback_from": primary.name, "fallback_reason": reason})
        fallback = get_fallback_generator()
        try:
            if fallback is primary:
                raise
            reply = fallback.generate(request)
        except Exception as exc2:
            logger.error("approved fallback failed reason=%s", _reason(exc2))
            turn.provenance.update({"backend": "fixed", "kind": "unavailable"})
            turn.provenance["approved_error"] = _reason(exc2)
            turn.model_versions["generator"] = "fixed"
            turn.latency["generation"] = ms_since(start)
            return fixed.unavailable_text
    turn.latency["generation"] = ms_since(start)
    turn.provenance["backend"] = reply.backend
    if reply.model:
        turn.provenance["model"] = reply.model
    if reply.source_dialogue_id is not None:
        turn.provenance["dialogue_id"] = reply.source_dialogue_id
    turn.provenance.update(dict(getattr(reply, "details", {}) or {}))
    turn.model_versions["generator"] = (
        f"{reply.backend}:{reply.model}" if reply.model else reply.backend
    )
    return reply.text
