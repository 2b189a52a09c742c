"""Stage 4, generate: the words of the reply, for the route the turn took.

Safety routes get fixed, admin-written texts (never generated), with the catalogue's crisis
resources and the suggested replies of safety-check mode. A reply on a flow step comes from the
active generator through ``generation_run`` (deadline, circuit breaker); when it cannot answer,
approved content serves and the reason is recorded; when that fails too, the fixed
last-resort text. A model's own words (``openai``, ``transformers``) are served only when they
keep the response filter's hard lines and validate a user who expressed distress; otherwise the
composed responder answers (the reason and the rejected words are recorded). Medium risk adds a
gentle safety question to a generated reply. A disclosure the session has not heard yet
(``understanding/disclosures.yaml``) is answered by the composed responder's approved
acknowledgement whichever backend serves, and the flow waits a turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import (
    GenerationError,
    generation_run,
    get_fallback_generator,
    get_generator,
)
from conversations.backends.generation.composed import (
    DIRECT_QUESTION_CATEGORIES,
    discloses_unheard,
)
from conversations.content.bank import split_sentences
from conversations.flows import ANSWER_READ_STEPS
from conversations.flows import SUGGESTED_REPLIES as FLOW_SUGGESTED_REPLIES
from conversations.models import ChatSession, Intent, RiskLevel
from conversations.selectors import crisis_resource_snapshots, persona_prompt_get
from conversations.services.filter.apply import violations
from conversations.services.filter.cues import (
    text_has_safety_question,
    text_validates,
    user_expresses_distress,
)
from conversations.services.filter.rules import SHIPPED_RULE_SET, RuleSet
from conversations.services.safety_mode import SUGGESTED_REPLIES, safety_question_answered
from conversations.services.turn.route import Route, RouteKind
from conversations.services.turn.state import Turn, ms_since
from conversations.understanding.requests import wants_resources

if TYPE_CHECKING:
    from conversations.backends.base import GeneratedReply, Generator, IntentClassifier
    from conversations.catalogue import Catalogue
    from conversations.models import EmergencyReply
    from conversations.selectors import HistoryRow

logger = logging.getLogger(__name__)

# Backends whose words are a model's own: checked before they are served.
MODEL_BACKENDS = ("openai", "transformers")
# Steps whose move is not a validation (the practice's own steps).
NO_VALIDATION_STEPS = ("practice",)

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
    history: Sequence[HistoryRow],
    risk_level: str,
    fixed: EmergencyReply,
    generator: Generator | None,
    turn: Turn,
    risk_category: str = "",
    catalogue: Catalogue | None = None,
    intent_classifier: IntentClassifier | None = None,
    persona_version: int | None = None,
    rule_set: RuleSet = SHIPPED_RULE_SET,
) -> str:
    """The reply's words before the filter; safety routes also set resources, suggested replies,
    the intent and entering or leaving safety-check mode on ``turn``. ``persona_version`` is the
    persona prompt the turn's release pins (None: the active one); ``rule_set`` its response
    filter's rules, which a model's reply must not break."""
    if route.fixed:
        return _fixed(route, session=session, fixed=fixed, turn=turn, history=history)
    turn.flow_step = route.flow_step
    turn.next_flow_step = route.next_flow_step
    persona = persona_prompt_get(version=persona_version)
    if persona is None and persona_version is not None:  # the pinned version was deleted
        turn.provenance["persona_version_missing"] = persona_version
        persona = persona_prompt_get(version=None)
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
    if needs_direct_question(request):
        # A disclosure of suicidal or self-harm thoughts at medium gets the direct question
        # whichever backend serves: the composed responder holds its approved wordings.
        turn.provenance["direct_question"] = True
        generator = get_generator("composed")
    elif discloses_unheard(request):
        # A disclosure is acknowledged in approved words, whichever backend serves.
        generator = get_generator("composed")
    text = _generated(
        generator,
        request,
        turn,
        fixed,
        catalogue=catalogue,
        intent_classifier=intent_classifier,
        rule_set=rule_set,
    )
    last_reply = next((t for role, t in reversed(request.history) if role == "assistant"), "")
    if wants_resources(user_text, last_reply):
        # Asked for support services, or said yes to Ari's offer: the catalogue's are shown.
        turn.needs_resources = True
    held = bool(turn.provenance.get("hold_flow"))
    if held:
        hold_flow_step(turn, route)
    elif route.flow_step in FLOW_SUGGESTED_REPLIES and risk_level != RiskLevel.MEDIUM:
        turn.suggested_replies = list(FLOW_SUGGESTED_REPLIES[route.flow_step])
    if (
        risk_level == RiskLevel.MEDIUM
        and not text_has_safety_question(text)
        # Nobody is asked twice (this message may be the answer).
        and not safety_question_answered([*request.history, ("user", request.user_text)])
    ):
        text = f"{text.rstrip()} {fixed.medium_risk_text.strip()}"
        turn.provenance["safety_check_added"] = True
    return text


# Fixed texts that safety-check mode may say turn after turn: each has admin-written variants.
SAFETY_MODE_WORDING_FIELDS = ("safety_mode_text", "safety_clarify_text", "safety_reminder_text")
# Fixed texts with variants: those, the reply that ends the mode and the emergency reply (a
# second false alarm in a session must not be answered, once resolved, with the very same words).
VARIED_FIELDS = (*SAFETY_MODE_WORDING_FIELDS, "safety_resolved_text", "text")


def fixed_wording(fixed: EmergencyReply, field: str, said: Sequence[str]) -> str:
    """``field``'s text or one of its variants: the first not yet said in the session, or, when
    all were, the one said longest ago (``said``: Ari's messages, oldest first)."""
    wordings = fixed.wordings(field) if field in VARIED_FIELDS else []
    if len(wordings) < 2:
        text: str = getattr(fixed, field)
        return text

    def last_said(wording: str) -> int:
        return max((i for i, text in enumerate(said) if wording in text), default=-1)

    return min(wordings, key=last_said)


def hold_flow_step(turn: Turn, route: Route) -> None:
    """A reply that did not say the step's move (a disclosure acknowledged, services shown, a
    direct question about disclosed thoughts): the step's move comes
    at the next turn, and the user's answer to the acknowledgement is not read as the answer to
    a question of the flow (consent) that Ari did not ask."""
    turn.next_flow_step = route.flow_step
    if route.flow_step in ANSWER_READ_STEPS:
        turn.flow_step = ""


def needs_direct_question(request: GenerationRequest) -> bool:
    """A medium-risk message whose family is suicidal ideation or self-harm, in a session whose
    user has not yet said they are safe."""
    return (
        request.risk_level == RiskLevel.MEDIUM
        and request.risk_category in DIRECT_QUESTION_CATEGORIES
        and not safety_question_answered([*request.history, ("user", request.user_text)])
    )


def _fixed(
    route: Route,
    *,
    session: ChatSession,
    fixed: EmergencyReply,
    turn: Turn,
    history: Sequence[HistoryRow] = (),
) -> str:
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
    said = [text for role, text, _, _ in history if role == "assistant"]
    return fixed_wording(fixed, _FIXED_TEXT[kind], said)


def _failed(turn: Turn, backend: str, reason: str) -> None:
    """Record why ``backend``'s reply was not used (the first one as the fallback's cause)."""
    logger.warning("generator reply not used backend=%s reason=%s", backend, reason)
    if "fallback_from" in turn.provenance:
        turn.provenance[f"{backend}_error"] = reason
    else:
        turn.provenance.update({"fallback_from": backend, "fallback_reason": reason})


def _answer(backend: Generator, request: GenerationRequest, turn: Turn) -> GeneratedReply | None:
    """A fallback backend's reply, or None (recorded) when it cannot answer either."""
    try:
        return backend.generate(request)
    except Exception as exc:
        _failed(turn, backend.name, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, GenerationError) else f"error:{type(exc).__name__}"


def model_reply_problem(
    request: GenerationRequest,
    text: str,
    *,
    catalogue: Catalogue | None,
    intent_classifier: IntentClassifier | None,
    rule_set: RuleSet = SHIPPED_RULE_SET,
) -> str:
    """Why a model's reply may not be served as it is ("" when it may): it breaks a hard line
    of the response filter, or it does not validate a user who expressed distress."""
    if catalogue is not None and violations(text, catalogue, rule_set):
        return "filter"
    distressed = request.risk_level in (RiskLevel.LOW, RiskLevel.MEDIUM) or (
        user_expresses_distress(request.user_text)
    )
    if (
        distressed
        and request.flow_step not in NO_VALIDATION_STEPS
        and not _validates(text, intent_classifier)
    ):
        return "not_validating"
    return ""


def _validates(text: str, intent_classifier: IntentClassifier | None) -> bool:
    """Any sentence that validates, by the intent classifier when one is active, else by the
    filter's validation phrases."""
    if text_validates(text):
        return True
    if intent_classifier is None:
        return False
    sentences = split_sentences(text)
    return any(p.intent == Intent.VALIDATE for p in intent_classifier.predict_many(sentences))


def _generated(
    generator: Generator | None,
    request: GenerationRequest,
    turn: Turn,
    fixed: EmergencyReply,
    *,
    catalogue: Catalogue | None,
    intent_classifier: IntentClassifier | None,
    rule_set: RuleSet = SHIPPED_RULE_SET,
) -> str:
    """The active generator; when it fails, approved content; when a model's reply does not
    listen or breaks a hard line, the composed responder (approved parts) instead; when those
    fail too, the fixed last-resort text."""
    start = time.perf_counter()
    primary = generator or get_generator()
    reply = None
    try:
        reply = generation_run(primary, request)
    except Exception as exc:
        _failed(turn, primary.name, _reason(exc))
    else:
        if primary.name in MODEL_BACKENDS:
            problem = model_reply_problem(
                request,
                reply.text,
                catalogue=catalogue,
                intent_classifier=intent_classifier,
                rule_set=rule_set,
            )
            if problem:
                _failed(turn, primary.name, problem)
                turn.provenance["rejected_text"] = reply.text  # Ari's words, for reviewers
                reply = _answer(get_generator("composed"), request, turn)
    if reply is None:
        fallback = get_fallback_generator()
        if fallback is not primary:
            reply = _answer(fallback, request, turn)
    if reply is None:
        turn.provenance.update({"backend": "fixed", "kind": "unavailable"})
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
