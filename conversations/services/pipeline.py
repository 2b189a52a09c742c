"""One chat turn, safety first (ARCHITECTURE.md, "One chat turn"): the stages of
``conversations.services.turn`` in order.

store the message -> screen -> route -> generate -> label -> filter -> persist

A reply on a flow step is written outside any lock (a slow generator must not hold up anyone);
the route is then decided again under the session's lock, so that a turn that entered
safety-check mode meanwhile is seen by this one (its draft then gives way to the fixed safety
reply). Safety routes are fixed texts, composed under the lock.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError

from ari_review.api.errors import ApplicationError
from conversations.models import ChatSession, RiskLevel
from conversations.rollout import ArmAssignment, GenerationConfig, arm_assignment_for, generator_for
from conversations.selectors import (
    crisis_catalogue_get,
    crisis_resource_snapshots,
    fixed_replies_get,
    session_history,
)
from conversations.services.message_input import idempotency_key_clean, message_text_clean
from conversations.services.release_contents import filter_rule_set_for, served_or_shipped
from conversations.services.turn.filter import filter_reply
from conversations.services.turn.generate import generate
from conversations.services.turn.label import label
from conversations.services.turn.persist import (
    message_store,
    reply_existing,
    session_turn_lock,
    turn_persist,
)
from conversations.services.turn.route import Route, RouteKind, care_level_for, route
from conversations.services.turn.screen import screen
from conversations.services.turn.state import Turn, TurnResult, ms_since

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from django.contrib.auth.models import User

    from conversations.backends.base import Generator, IntentClassifier, SafetyClassifier
    from conversations.selectors import HistoryRow
    from conversations.services.filter.rules import RuleSet

logger = logging.getLogger(__name__)

__all__ = ["TurnResult", "chat_turn_run"]

# Routes whose turn opens the session's escalation or keeps the open one.
_ESCALATING = {RouteKind.EMERGENCY, RouteKind.SAFETY_REMINDER}


def chat_turn_run(
    *,
    session: ChatSession | None = None,
    user: User | None = None,
    session_public_id: UUID | str | None = None,
    text: object,
    idempotency_key: str = "",
    generator: Generator | None = None,
    safety_classifier: SafetyClassifier | None = None,
    intent_classifier: IntentClassifier | None = None,
    generation_config: GenerationConfig | None = None,
) -> TurnResult:
    """Run one chat turn for ``session`` (or ``user``'s session ``session_public_id``: anyone
    else's is a 404) and return the stored user message and reply.

    The reply is generated with the generation configuration of the turn's release and arm
    (``conversations.rollout``), or with ``generation_config`` when given (an evaluation run
    plays a release's configuration); an explicit ``generator`` wins over either's backend.

    With an ``idempotency_key`` already used in this session, the first result is returned
    (``replayed=True``) instead of a second turn; a key reused for different text is refused.
    """
    total_start = time.perf_counter()
    if session is None and (user is None or session_public_id is None):
        raise TypeError("chat_turn_run needs session, or user and session_public_id")
    text = message_text_clean(text)
    key = idempotency_key_clean(idempotency_key)

    start = time.perf_counter()
    store: dict[str, Any] = {
        "session": session,
        "user": user,
        "public_id": session_public_id,
        "text": text,
        "idempotency_key": key,
    }
    try:
        user_message, created = message_store(**store)
    except IntegrityError:
        # A concurrent retry stored the same key first: that transaction has committed.
        if not key:
            raise
        user_message, created = message_store(**store)
    if not created:
        if user_message.text != text:
            raise ApplicationError(
                "This Idempotency-Key was already used for a different message.",
                status_code=422,
            )
        reply = getattr(user_message, "reply", None)
        if reply is not None:
            return TurnResult(
                user_message=user_message, reply=reply, replayed=True, session=user_message.session
            )
        # A turn that never got its reply (its process died): finish it now.
    screened = Turn(latency={"persist_user": ms_since(start) if created else 0.0})
    session = user_message.session  # as read when the message was stored
    start = time.perf_counter()
    arm = arm_assignment_for(session)
    screened.release_id, screened.rollout_arm = arm.release_id, arm.arm
    generation = generation_config or arm.generation
    rule_set = served_or_shipped(
        filter_rule_set_for,
        generation.filter_rules if generation else "",
        screened.provenance,
        "filter_rules",
    )
    screened.latency["release_arm"] = ms_since(start)  # the arm, its release and rule set
    if intent_classifier is None:
        intent_classifier = _arm_intent_classifier(arm, screened)
    if generator is None and generation is not None and generation.generator:
        generator = _arm_generator(generation, screened)
    history = session_history(session=session, before_id=user_message.pk, limit=20)
    # an explicitly given classifier (tests, benchmarks) or configuration (an evaluation run
    # playing a release) is served alone
    alone = safety_classifier is not None or generation_config is not None
    assessment = screen(
        user_message.text,
        history=history,
        classifier=safety_classifier,
        turn=screened,
        candidate_version_id=None if alone else arm.safety_candidate_version_id,
        candidate_served=arm.safety_candidate_served,
        risk_signals=generation_config.risk_signals if generation_config else arm.risk_signals,
        candidate_signals=None if alone else arm.safety_candidate_signals,
    )
    compose = _composer(
        screened,
        user_text=user_message.text,
        history=history,
        risk_level=assessment.level,
        # the family counts for the reply only when the user's own words named it (a risk
        # signal hit): a model's guess alone never gets "what you described about hurting
        # yourself" said to someone who described nothing of the kind
        risk_category=assessment.category if assessment.rule_hits else "",
        generator=generator,
        intent_classifier=intent_classifier,
        persona_version=generation.persona_prompt_version if generation else None,
        rule_set=rule_set,
    )
    planned = route(
        session=session, level=assessment.level, user_text=user_message.text, history=history
    )
    draft = None if planned.fixed else compose(planned, session)

    with session_turn_lock(session.pk) as session:
        earlier = reply_existing(user_message)
        if earlier is not None:  # a concurrent retry of this message finished first
            return TurnResult(
                user_message=user_message, reply=earlier, replayed=True, session=session
            )
        final = route(
            session=session, level=assessment.level, user_text=user_message.text, history=history
        )
        if draft is not None and final.kind is RouteKind.GENERATE:
            turn = draft
        else:
            turn = compose(final, session)
            if draft is not None:  # the session entered safety-check mode during the turn
                turn.provenance["draft_discarded"] = True
                logger.info("turn draft discarded message_id=%s", user_message.pk)
        turn.care_level = care_level_for(final.kind, risk_level=assessment.level)
        reply = turn_persist(
            session,
            user_message,
            assessment,
            turn,
            escalate=final.kind in _ESCALATING,
            total_start=total_start,
        )
    logger.info(
        "chat turn session_id=%s message_id=%s reply_id=%s risk=%s route=%s ms=%s",
        session.pk,
        user_message.pk,
        reply.pk,
        assessment.level,
        final.kind,
        turn.latency.get("total"),
    )
    return TurnResult(user_message=user_message, reply=reply, session=session)


def _arm_intent_classifier(arm: ArmAssignment, turn: Turn) -> IntentClassifier | None:
    """The canary arm's intent model, or None (the active one serves)."""
    if arm.intent_version_id is None:
        return None
    from conversations.backends.classifiers import get_classifier_for_version

    try:
        return cast("IntentClassifier", get_classifier_for_version("intent", arm.intent_version_id))
    except Exception as exc:  # the incumbent's intent model serves instead
        logger.exception("candidate intent model failed version_id=%s", arm.intent_version_id)
        turn.provenance["intent_candidate_error"] = type(exc).__name__
        return None


def _arm_generator(generation: GenerationConfig, turn: Turn) -> Generator | None:
    """The backend of the arm's release (its LLM model, or its transformers model directory and
    adapter), or None (the settings' backend serves) when it cannot be built."""
    try:
        return generator_for(generation)
    except Exception as exc:
        logger.exception("release generator unavailable backend=%s", generation.generator)
        turn.provenance["generation_config_error"] = type(exc).__name__
        return None


def _composer(
    screened: Turn,
    *,
    user_text: str,
    history: list[HistoryRow],
    risk_level: str,
    risk_category: str,
    generator: Generator | None,
    intent_classifier: IntentClassifier | None,
    persona_version: int | None = None,
    rule_set: RuleSet,
) -> Callable[[Route, ChatSession], Turn]:
    """``compose(route, session) -> Turn``: generate, label and filter a reply for ``route``,
    each time on a fresh copy of the screened turn (a draft may be composed again)."""
    fixed = fixed_replies_get()
    catalogue = crisis_catalogue_get()

    def compose(chosen: Route, session: ChatSession) -> Turn:
        turn = copy.deepcopy(screened)
        text = generate(
            chosen,
            session=session,
            user_text=user_text,
            history=history,
            risk_level=risk_level,
            risk_category=risk_category,
            fixed=fixed,
            generator=generator,
            turn=turn,
            catalogue=catalogue,
            intent_classifier=intent_classifier,
            persona_version=persona_version,
            rule_set=rule_set,
        )
        if not turn.intent:
            label(text, classifier=intent_classifier, turn=turn)
        safety_words = chosen.fixed and chosen.kind is not RouteKind.SAFETY_RESOLVED
        filter_reply(
            text,
            risk_level=RiskLevel.HIGH if safety_words else risk_level,
            user_text=user_text,
            fixed=fixed,
            catalogue=catalogue,
            turn=turn,
            rule_set=rule_set,
            history=[(role, said) for role, said, _, _ in history],
        )
        if turn.filter_hits and not chosen.fixed:
            # The filter changed the words: label what the user actually reads.
            turn.provenance["intent_before_filter"] = turn.intent
            label(turn.text, classifier=intent_classifier, turn=turn)
        if turn.needs_resources and not turn.resources:
            turn.resources = crisis_resource_snapshots(locale=session.locale)
        return turn

    return compose
