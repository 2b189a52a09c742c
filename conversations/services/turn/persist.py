"""Stages 1 and 7, persist: the user's message first, then the rest of the turn, in the ORM.

The user's message is stored in its own transaction before anything else can fail, so nothing
a person wrote is lost. The turn's results (the assessment on the message, the session's new
state, the escalation of an emergency and the reply) are written in one ``transaction.atomic()``
under the session's lock (:func:`session_turn_lock`): one turn at a time per session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from conversations.backends.base import RiskAssessment
from conversations.models import ChatSession, Message, SafetyResolution
from conversations.selectors import session_get_for_user
from conversations.services.crisis import escalation_open, escalations_are_offline
from conversations.services.turn.state import Turn, ms_since
from training_jobs.ml.labels import max_level

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RISK_FIELDS = (
    "risk_level",
    "risk_category",
    "risk_score",
    "risk_urgency",
    "safety_rule_hits",
    "risk_reason",
    "model_versions",
    "care_level",
)

# SQLite ignores SELECT ... FOR UPDATE: in the quick start's single process these stripes
# serialize a session's turns as the row lock does across processes on PostgreSQL.
_STRIPES = tuple(threading.Lock() for _ in range(64))


def _session_gone(session_pk: int) -> ChatSession.DoesNotExist:
    return ChatSession.DoesNotExist(f"chat session {session_pk} no longer exists")


def _session_locked(
    *, session_pk: int | None = None, user: User | None = None, public_id: UUID | str | None = None
) -> ChatSession:
    if session_pk is None:
        if user is None or public_id is None:
            raise TypeError("a session is locked by its pk, or by its user and public id")
        return session_get_for_user(user=user, public_id=public_id, for_update=True)
    locked = ChatSession.objects.select_for_update().filter(pk=session_pk).first()
    if locked is None:
        raise _session_gone(session_pk)
    return locked


@contextmanager
def session_turn_lock(session_pk: int) -> Iterator[ChatSession]:
    """The session, locked for the rest of the turn, inside a transaction."""
    with _STRIPES[session_pk % len(_STRIPES)], transaction.atomic():
        yield _session_locked(session_pk=session_pk)


def message_store(
    *,
    text: str,
    idempotency_key: str = "",
    session: ChatSession | None = None,
    user: User | None = None,
    public_id: UUID | str | None = None,
) -> tuple[Message, bool]:
    """Store the user's message (the session must be open) in its own transaction.

    The session is ``session``, or ``user``'s session ``public_id`` (anyone else's is a 404);
    ``message.session`` is the session as read under its lock. Returns ``(message, True)``, or
    ``(the earlier message, False)`` when ``idempotency_key`` was already used in the session
    (then nothing is written, even in an ended session).
    """
    with transaction.atomic():
        locked = _session_locked(
            session_pk=session.pk if session is not None else None, user=user, public_id=public_id
        )
        if idempotency_key:
            existing = (
                Message.objects.filter(
                    session=locked, role=Message.Role.USER, idempotency_key=idempotency_key
                )
                .select_related("reply")
                .first()
            )
            if existing is not None:
                existing.session = locked
                return existing, False
        if locked.status != ChatSession.Status.OPEN:
            raise ApplicationError("This session has ended. Start a new session to keep talking.")
        message = Message.objects.create(
            session=locked, role=Message.Role.USER, text=text, idempotency_key=idempotency_key
        )
        return message, True


def reply_existing(user_message: Message) -> Message | None:
    """The reply already stored for ``user_message`` (a retry raced this turn), if any."""
    return Message.objects.filter(reply_to=user_message).first()


def session_state_apply(
    session: ChatSession,
    *,
    level: str,
    score: float,
    confidence: float | None = None,
    next_flow_step: str | None = None,
    enter_safety_mode: bool = False,
    leave_safety_mode: bool = False,
) -> ChatSession:
    """Give a locked ``session`` its state after a turn and save it: the highest risk seen, the
    lowest confidence of the safety classifier (by default ``max(score, 1 - score)``), the next
    flow step if any, and entering (flagged) or leaving safety-check mode."""
    if confidence is None:
        confidence = round(max(score, 1.0 - score), 4)
    session.max_risk_level = max_level(session.max_risk_level or "none", level)
    if session.min_safety_confidence is None or session.min_safety_confidence > confidence:
        session.min_safety_confidence = confidence
    fields = ["max_risk_level", "min_safety_confidence"]
    if next_flow_step:
        session.flow_step = next_flow_step
        fields.append("flow_step")
    now = timezone.now()
    if enter_safety_mode:
        if not session.safety_mode:
            session.safety_mode_since = now
            session.safety_resolved_at = None
            session.safety_resolution = ""
        session.safety_mode = True
        session.flagged = True  # stays set after the mode ends: for clinician follow-up
        fields += ["safety_mode", "safety_mode_since", "safety_resolved_at"]
        fields += ["safety_resolution", "flagged"]
    if leave_safety_mode and session.safety_mode:
        session.safety_mode = False
        session.safety_resolved_at = now
        session.safety_resolution = SafetyResolution.USER_SAFE
        fields += ["safety_mode", "safety_resolved_at", "safety_resolution"]
    session.save(update_fields=fields)
    return session


def turn_persist(
    session: ChatSession,
    user_message: Message,
    assessment: RiskAssessment,
    turn: Turn,
    *,
    escalate: bool,
    total_start: float,
) -> Message:
    """Write the turn's results for the locked ``session`` (inside ``session_turn_lock``).

    ``escalate`` opens the session's escalation, or keeps the open one (never a second).
    ``latency_ms.persist_reply`` and ``total`` are measured up to the reply's INSERT.
    """
    start = time.perf_counter()
    user_message.risk_level = assessment.level
    user_message.risk_category = assessment.category or ""
    user_message.risk_score = assessment.score
    user_message.risk_urgency = assessment.urgency or ""
    user_message.safety_rule_hits = list(assessment.rule_hits)
    user_message.risk_reason = {
        key: value
        for key, value in (
            ("exemplar", turn.exemplar),
            ("thresholds", turn.thresholds),
            ("model_version", assessment.model_version),
        )
        if value
    }
    # The version that decided this message's risk (and, with a release, its arm's): safety
    # metrics per version read it here (evaluation/services/metrics.py).
    user_message.model_versions = {"safety": assessment.model_version}
    if turn.model_versions.get("risk_signals"):  # the signal file that screened it
        user_message.model_versions["risk_signals"] = turn.model_versions["risk_signals"]
    user_message.care_level = turn.care_level
    user_message.release_id, user_message.rollout_arm = turn.release_id, turn.rollout_arm
    user_message.save(update_fields=(*RISK_FIELDS, "release", "rollout_arm"))
    if (session.release_id, session.rollout_arm) != (turn.release_id, turn.rollout_arm):
        session.release_id, session.rollout_arm = turn.release_id, turn.rollout_arm
        session.save(update_fields=["release", "rollout_arm"])
    session_state_apply(
        session,
        level=assessment.level,
        score=assessment.score,
        confidence=assessment.confidence,
        next_flow_step=turn.next_flow_step,
        enter_safety_mode=turn.enter_safety_mode,
        leave_safety_mode=turn.leave_safety_mode,
    )
    if escalate and escalations_are_offline():
        turn.provenance["escalation_skipped"] = "offline evaluation"
    elif escalate:
        escalation, created = escalation_open(session=session, message=user_message)
        turn.provenance["escalation_id"] = escalation.pk
        turn.provenance["escalation_created"] = created
    turn.latency["persist_reply"] = ms_since(start)
    turn.latency["total"] = ms_since(total_start)
    reply = Message.objects.create(
        session=session,
        role=Message.Role.ASSISTANT,
        text=turn.text,
        reply_to=user_message,
        emergency=turn.emergency,
        intent=turn.intent,
        intent_score=turn.intent_score,
        filter_hits=turn.filter_hits,
        filter_version=turn.filter_version,
        latency_ms=turn.latency,
        model_versions=turn.model_versions,
        provenance=turn.provenance,
        flow_step=turn.flow_step,
        resources=turn.resources,
        suggested_replies=turn.suggested_replies,
        risk_level=assessment.level,
        risk_category=assessment.category or "",
        release_id=turn.release_id,
        rollout_arm=turn.rollout_arm,
    )
    return reply
