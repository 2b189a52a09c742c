"""One chat turn, safety first (ARCHITECTURE.md, "One chat turn").

1. The user message is stored in its own transaction before anything else can fail.
2. The safety classifier scores it with the last few user turns.
3. High risk: the emergency flow. A fixed, admin-edited reply with catalogue resources, no
   generated text; the session enters safety-check mode, is flagged and escalated, and the
   on-call clinicians are alerted. While in safety-check mode, later replies keep checking
   safety (fixed text, resources visible) until the user says they are safe or a clinician
   closes the escalation.
4. Otherwise the active generator writes the reply (persona, session type, flow step,
   preferences, last session's summary); if it fails, approved content is used and the
   fallback recorded. Medium risk adds a gentle safety check.
5. The intent classifier labels the reply; 6. the response filter enforces the hard lines;
7. the reply is stored with risk, intent, filter hits, per-stage latency, model versions and
   provenance, in one transaction with the session's new state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache, partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.rows import (
    all_columns,
    insert_statement,
    mark_stored,
    quote_column,
    row_from_values,
    row_get,
    row_insert,
    row_insert_locked,
    rows_write,
    update_statement,
)
from conversations.backends.base import GenerationRequest, IntentPrediction, RiskAssessment
from conversations.backends.generation import (
    GenerationError,
    get_fallback_generator,
    get_generator,
)
from conversations.flows import flow_next_step, flow_step_for_reply
from conversations.models import ChatSession, Intent, Message, RiskLevel
from conversations.selectors import (
    crisis_catalogue_get,
    crisis_resource_snapshots,
    fixed_replies_get,
    persona_prompt_get_active,
    session_get_for_user,
    session_history,
)
from conversations.services.crisis import escalation_open, user_says_safe
from conversations.services.exemplars import exemplar_nearest
from conversations.services.filter import response_filter_apply, text_has_safety_question
from training_jobs.ml.labels import RISK_LEVELS, level_rank, max_level

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_IDEMPOTENCY_KEY_CHARS = 100


@dataclass(frozen=True)
class TurnResult:
    user_message: Message
    reply: Message
    replayed: bool = False
    # The session as written by this turn (for a replayed turn: as read when looked up).
    session: ChatSession | None = None


@dataclass
class _Turn:
    """What one turn has worked out so far (internal)."""

    latency: dict = field(default_factory=dict)
    model_versions: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    exemplar: dict = field(default_factory=dict)  # the nearest exemplar: why, for reviewers
    resources: list = field(default_factory=list)
    emergency: bool = False
    intent: str = ""
    intent_score: float | None = None
    filter_hits: list = field(default_factory=list)
    filter_version: str = ""
    flow_step: str = ""
    next_flow_step: str | None = None
    enter_safety_mode: bool = False
    leave_safety_mode: bool = False
    needs_resources: bool = False
    text: str = ""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


# ---------------------------------------------------------------------------------------------
# Input checks and step 1: persist the user message
# ---------------------------------------------------------------------------------------------
def message_text_clean(text) -> str:
    if not isinstance(text, str):
        raise ApplicationError("text must be a string.")
    cleaned = text.strip()
    if not cleaned:
        raise ApplicationError("text must not be empty or only whitespace.")
    if len(cleaned) > MAX_MESSAGE_CHARS:
        raise ApplicationError(
            f"text must be at most {MAX_MESSAGE_CHARS:,} characters (got {len(cleaned):,})."
        )
    return cleaned


def _idempotency_key_clean(key) -> str:
    key = (key or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise ApplicationError(
            f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters."
        )
    return key


def _existing_turn(session: ChatSession, key: str) -> Message | None:
    if not key:
        return None
    return (
        Message.objects.filter(session=session, role=Message.Role.USER, idempotency_key=key)
        .select_related("reply")
        .first()
    )


def _session_lock(*, session: ChatSession | None, user, public_id) -> ChatSession:
    if session is not None:
        locked = row_get(ChatSession, {"id": session.pk}, for_update=True)
        if locked is None:
            raise _session_gone(session.pk)
        return locked
    return session_get_for_user(user=user, public_id=public_id, for_update=True)


def message_user_create(
    *,
    text: str,
    idempotency_key: str = "",
    session: ChatSession | None = None,
    user=None,
    public_id=None,
) -> tuple[Message, bool]:
    """Store the user's message in its own transaction (checked: session open).

    The session is ``session``, or ``user``'s session ``public_id`` (anyone else's is a 404);
    it is locked for the transaction, and ``message.session`` is the session as read then.
    Returns ``(message, True)``, or ``(the earlier message, False)`` when ``idempotency_key``
    was already used in the session (then nothing is written, even in an ended session).
    The usual case, an open session and a new key, is one statement on PostgreSQL.
    """
    message = Message(role=Message.Role.USER, text=text, idempotency_key=idempotency_key)
    where = (
        {"id": session.pk}
        if session is not None
        else {"user_id": getattr(user, "pk", None), "public_id": public_id}
    )
    try:
        _, stored = row_insert_locked(
            message,
            parent="session",
            parent_where=where,
            parent_check={"status": ChatSession.Status.OPEN},
            # A used key is the only unique constraint a user message can meet.
            ignore_conflicts=bool(idempotency_key),
        )
    except ValidationError:  # a malformed session id: answered below (404)
        stored = False
    if stored:
        return message, True
    # No such session, an ended one, or a used key: sorted out under the session's lock.
    with transaction.atomic():
        locked = _session_lock(session=session, user=user, public_id=public_id)
        existing = _existing_turn(locked, idempotency_key)
        if existing is not None:
            existing.session = locked
            return existing, False
        if locked.status != ChatSession.Status.OPEN:
            raise ApplicationError("This session has ended. Start a new session to keep talking.")
        message = Message(
            session=locked, role=Message.Role.USER, text=text, idempotency_key=idempotency_key
        )
        row_insert(message)  # the key is unused and the session locked: no conflict
        return message, True


# ---------------------------------------------------------------------------------------------
# Steps 2-7
# ---------------------------------------------------------------------------------------------
def safety_context(history) -> list[str]:
    """The earlier user turns the safety classifier reads with the new message.

    The last ``ARI_SAFETY_HISTORY_TURNS`` user turns, but none from before (or at) the most
    recent high-risk message: that risk has been answered and escalated already, and counting
    it again would turn every later message ("yes, I'm safe now") into a new emergency.
    """
    limit = settings.ARI_SAFETY_HISTORY_TURNS
    texts: list[str] = []
    for role, text, _, risk in reversed(history):
        if role != Message.Role.USER:
            continue
        if risk == RiskLevel.HIGH or len(texts) >= limit:
            break
        texts.append(text)
    return texts[::-1]


def _assess(classifier, text: str, history: list[str], turn: _Turn) -> RiskAssessment:
    start = time.perf_counter()
    try:
        if classifier is None:
            from conversations.backends.classifiers import get_safety_classifier

            classifier = get_safety_classifier()
        assessment = classifier.assess(text, history=history)
    except Exception as exc:  # never let a broken model skip safety: fall back to the rules
        logger.exception("safety classifier failed; using the rule net")
        assessment = _rules_only_assessment(text)
        turn.provenance["safety_error"] = type(exc).__name__
    else:
        assessment = _second_opinion(classifier, text, history, assessment, turn)
    turn.exemplar = exemplar_nearest(text)
    turn.latency["safety"] = _ms(start)
    turn.model_versions["safety"] = assessment.model_version
    return assessment


def _second_opinion(classifier, text, history, assessment, turn) -> RiskAssessment:
    """The optional safety judge, for a message in the model's possible-risk band only."""
    from conversations.backends import safety_judge

    band = safety_judge.in_band(
        assessment, getattr(classifier, "possible", None), getattr(classifier, "threshold", None)
    )
    if not band or not safety_judge.judge_enabled():
        return assessment
    outcome = safety_judge.ask_judge(text, history)
    turn.provenance["safety_judge"] = outcome.as_dict()
    logger.info(
        "safety judge verdict=%s reason=%s ms=%s", outcome.verdict, outcome.reason, outcome.ms
    )
    return safety_judge.judged(assessment, outcome)


def _rules_only_assessment(text: str) -> RiskAssessment:
    """The rule safety net alone, and at least medium risk: without the model we stay careful."""
    from conversations.backends.safety_rules import RULESET_VERSION, rule_hits, rules_level

    hits = rule_hits(text)
    level, category = rules_level(hits)
    level = max_level(level, "medium")
    return RiskAssessment(
        level=level,
        category=category,
        urgency=level,
        score=1.0 if level == "high" else 0.5,
        model_version=f"rules-only:{RULESET_VERSION}",
        rule_hits=tuple(h.rule_id for h in hits),
    )


# Approved replies repeat (a finite set of texts), and a model version labels the same text the
# same way every time: remember the last labels per (model version, text).
_INTENT_CACHE_SIZE = 4096
_intent_cache: OrderedDict[tuple[str, str], IntentPrediction] = OrderedDict()
_intent_cache_lock = threading.Lock()


def intent_predict(classifier, text: str) -> IntentPrediction:
    """``classifier.predict(text)``, remembered per (model version, text)."""
    version = getattr(classifier, "version", None)
    if not isinstance(version, str):
        return classifier.predict(text)
    key = (version, text)
    with _intent_cache_lock:
        cached = _intent_cache.get(key)
        if cached is not None:
            _intent_cache.move_to_end(key)
            return cached
    prediction = classifier.predict(text)
    with _intent_cache_lock:
        _intent_cache[key] = prediction
        while len(_intent_cache) > _INTENT_CACHE_SIZE:
            _intent_cache.popitem(last=False)
    return prediction


def _label_intent(classifier, text: str, turn: _Turn) -> tuple[str, float | None]:
    start = time.perf_counter()
    try:
        if classifier is None:
            from conversations.backends.classifiers import get_intent_classifier

            classifier = get_intent_classifier()
        prediction = intent_predict(classifier, text)
        intent, score, version = prediction.intent, prediction.score, prediction.model_version
    except Exception as exc:
        logger.exception("intent classifier failed")
        intent, score, version = Intent.OTHER, None, "unavailable"
        turn.provenance["intent_error"] = type(exc).__name__
    if intent not in Intent.values:
        intent = Intent.OTHER
    turn.latency["intent"] = turn.latency.get("intent", 0.0) + _ms(start)
    turn.model_versions["intent"] = version
    return intent, score


def _generate(generator, request: GenerationRequest, turn: _Turn, fixed) -> str:
    """The active generator, then approved content, then the fixed last-resort text."""
    start = time.perf_counter()
    primary = generator or get_generator()
    try:
        reply = primary.generate(request)
    except Exception as exc:
        reason = exc.reason if isinstance(exc, GenerationError) else f"error:{type(exc).__name__}"
        logger.warning("generator failed backend=%s reason=%s", primary.name, reason)
        turn.provenance.update({"fallback_from": primary.name, "fallback_reason": reason})
        fallback = get_fallback_generator()
        try:
            if fallback is primary:
                raise
            reply = fallback.generate(request)
        except Exception as exc2:
            reason2 = (
                exc2.reason if isinstance(exc2, GenerationError) else f"error:{type(exc2).__name__}"
            )
            logger.error("approved fallback failed reason=%s", reason2)
            turn.provenance.update({"backend": "fixed", "kind": "unavailable"})
            turn.provenance["approved_error"] = reason2
            turn.model_versions["generator"] = "fixed"
            turn.latency["generation"] = _ms(start)
            return fixed.unavailable_text
    turn.latency["generation"] = _ms(start)
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


def _resources(session: ChatSession) -> list[dict]:
    return crisis_resource_snapshots(locale=session.locale)


def _filter(turn: _Turn, text: str, *, risk_level: str, user_text: str, fixed, catalogue) -> str:
    start = time.perf_counter()
    result = response_filter_apply(
        text=text,
        catalogue=catalogue,
        risk_level=risk_level,
        user_text=user_text,
        safety_prompt_text=fixed.medium_risk_text,
    )
    turn.latency["filter"] = _ms(start)
    turn.filter_hits = [hit.as_dict() for hit in result.hits]
    turn.filter_version = result.version
    turn.model_versions["filter"] = result.version
    if result.changed:
        turn.provenance["unfiltered_text"] = text
    turn.needs_resources = turn.needs_resources or result.needs_resources
    return result.text


def _emergency_turn(turn: _Turn, session, fixed, user_text: str, catalogue) -> None:
    turn.emergency = True
    turn.enter_safety_mode = True
    turn.intent, turn.intent_score = Intent.EMERGENCY, 1.0
    turn.model_versions["generator"] = "fixed"
    turn.provenance.update({"backend": "fixed", "kind": "emergency"})
    if fixed.pk:
        turn.provenance["fixed_reply_id"] = fixed.pk
    turn.resources = _resources(session)
    turn.text = _filter(
        turn, fixed.text, risk_level="high", user_text=user_text, fixed=fixed, catalogue=catalogue
    )


def _safety_mode_turn(
    turn: _Turn, session, fixed, assessment, user_text: str, catalogue, intent_classifier
) -> None:
    turn.resources = _resources(session)
    turn.model_versions["generator"] = "fixed"
    if fixed.pk:
        turn.provenance["fixed_reply_id"] = fixed.pk
    if user_says_safe(user_text):
        turn.leave_safety_mode = True
        turn.provenance.update({"backend": "fixed", "kind": "safety_resolved"})
        turn.text = _filter(
            turn,
            fixed.safety_resolved_text,
            risk_level=assessment.level,
            user_text=user_text,
            fixed=fixed,
            catalogue=catalogue,
        )
        turn.intent, turn.intent_score = _label_intent(intent_classifier, turn.text, turn)
        return
    turn.provenance.update({"backend": "fixed", "kind": "safety_mode"})
    turn.intent, turn.intent_score = Intent.SAFETY_CHECK, 1.0
    turn.text = _filter(
        turn,
        fixed.safety_mode_text,
        risk_level="high",
        user_text=user_text,
        fixed=fixed,
        catalogue=catalogue,
    )


def _generated_turn(
    turn: _Turn,
    session,
    user_message,
    assessment,
    fixed,
    catalogue,
    *,
    history,
    generator,
    intent_classifier,
) -> None:
    previous_step = next(
        (step for role, _, step, _ in reversed(history) if role == "assistant"), ""
    )
    step = flow_step_for_reply(
        session_type=session.session_type,
        stored_step=session.flow_step,
        previous_step=previous_step,
        user_text=user_message.text,
    )
    turn.flow_step = step
    persona = persona_prompt_get_active()
    turn.model_versions["persona"] = f"v{persona.version}" if persona else "none"
    request = GenerationRequest(
        user_text=user_message.text,
        session_type=session.session_type,
        flow_step=step,
        persona=persona.text if persona else "",
        history=tuple((role, text) for role, text, _, _ in history),
        preferences=dict(session.preferences or {}),
        previous_summary=session.previous_summary,
        risk_level=assessment.level,
    )
    text = _generate(generator, request, turn, fixed)
    if assessment.level == RiskLevel.MEDIUM and not text_has_safety_question(text):
        text = f"{text.rstrip()} {fixed.medium_risk_text.strip()}"
        turn.provenance["safety_check_added"] = True
    turn.intent, turn.intent_score = _label_intent(intent_classifier, text, turn)
    turn.text = _filter(
        turn,
        text,
        risk_level=assessment.level,
        user_text=user_message.text,
        fixed=fixed,
        catalogue=catalogue,
    )
    if turn.filter_hits:
        # The filter changed the words: label what the user actually reads.
        turn.provenance["intent_before_filter"] = turn.intent
        turn.intent, turn.intent_score = _label_intent(intent_classifier, turn.text, turn)
    replies_on_step = 1 + sum(1 for role, _, s, _ in history if role == "assistant" and s == step)
    turn.next_flow_step = flow_next_step(
        session_type=session.session_type,
        step=step,
        replies_on_step=replies_on_step,
        session_length=(session.preferences or {}).get("session_length", "standard"),
    )


RISK_FIELDS = (
    "risk_level",
    "risk_category",
    "risk_score",
    "risk_urgency",
    "safety_rule_hits",
    "risk_reason",
)


def _db_value(name: str, value, using: str):
    return ChatSession._meta.get_field(name).get_db_prep_value(value, connections[using])


def _level_rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{level}' THEN {rank}" for rank, level in enumerate(RISK_LEVELS))
    return f"CASE {column} {whens} ELSE 0 END"


@lru_cache(maxsize=8)
def _session_state_sql(set_flow_step: bool, enter_safety_mode: bool, leave_safety_mode: bool):
    """The UPDATE that gives a session its state after a turn, relative to the row as it is when
    the UPDATE runs (so a concurrent change to the session is kept), RETURNING the whole row.
    Parameters: see ``session_state_update``."""
    column = partial(quote_column, ChatSession)
    level, confidence, mode = (
        column("max_risk_level"),
        column("min_safety_confidence"),
        column("safety_mode"),
    )
    since, resolved, resolution = (
        column("safety_mode_since"),
        column("safety_resolved_at"),
        column("safety_resolution"),
    )
    # The highest risk seen and the lowest confidence of the safety classifier.
    sets = [
        f"{level} = CASE WHEN {_level_rank_sql(level)} < %s THEN %s ELSE {level} END",
        f"{confidence} = CASE WHEN {confidence} IS NULL OR {confidence} > %s THEN %s "
        f"ELSE {confidence} END",
    ]
    if set_flow_step:
        sets.append(f"{column('flow_step')} = %s")
    if enter_safety_mode:  # since now unless already in it; flagged
        sets += [
            f"{since} = CASE WHEN {mode} THEN {since} ELSE %s END",
            f"{resolved} = CASE WHEN {mode} THEN {resolved} ELSE NULL END",
            f"{resolution} = CASE WHEN {mode} THEN {resolution} ELSE %s END",
            f"{mode} = %s",
            f"{column('flagged')} = %s",
        ]
    if leave_safety_mode:  # resolved now by the user, if it was in safety-check mode
        sets += [
            f"{resolved} = CASE WHEN {mode} THEN %s ELSE {resolved} END",
            f"{resolution} = CASE WHEN {mode} THEN %s ELSE {resolution} END",
            f"{mode} = %s",
        ]
    table, pk = f'"{ChatSession._meta.db_table}"', column("id")
    return (
        f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s "  # noqa: S608
        f"RETURNING {all_columns(ChatSession)}"
    )


def session_state_update(
    session_pk: int,
    *,
    level: str,
    score: float,
    confidence: float | None = None,
    next_flow_step: str | None = None,
    enter_safety_mode: bool = False,
    leave_safety_mode: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[str, list, int]:
    """A session's new state after a turn, as a ``rows_write`` statement (it returns the row):
    the highest risk ``level`` seen, the lowest ``confidence`` of the safety classifier (by
    default ``max(score, 1 - score)``), the next flow step if any, and entering or leaving
    safety-check mode."""
    if confidence is None:
        confidence = round(max(score, 1.0 - score), 4)
    params = [level_rank(level), level, confidence, confidence]
    if next_flow_step:
        params.append(next_flow_step)
    if enter_safety_mode or leave_safety_mode:
        now = _db_value("safety_mode_since", timezone.now(), using)
    if enter_safety_mode:
        on = _db_value("safety_mode", True, using)
        params += [now, "", on, _db_value("flagged", True, using)]
    if leave_safety_mode:
        params += [now, "user_safe", _db_value("safety_mode", False, using)]
    sql = _session_state_sql(bool(next_flow_step), enter_safety_mode, leave_safety_mode)
    return sql, [*params, session_pk], len(ChatSession._meta.concrete_fields)


def _session_gone(session_pk: int) -> ChatSession.DoesNotExist:
    return ChatSession.DoesNotExist(f"chat session {session_pk} no longer exists")


def _session_written(session: ChatSession, row) -> ChatSession:
    if row is None:
        raise _session_gone(session.pk)
    return row_from_values(ChatSession, row)


def _reply_message(session, user_message, assessment, turn: _Turn, start, total_start):
    turn.latency["persist_reply"] = _ms(start)
    turn.latency["total"] = _ms(total_start)
    return Message(
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
        risk_level=assessment.level,
        risk_category=assessment.category or "",
    )


def _persist(
    session, user_message, assessment, turn: _Turn, total_start: float
) -> tuple[Message, ChatSession]:
    """Write the assessment, the session's new state and the reply in one transaction: one
    statement on PostgreSQL, except in an emergency, which also opens the escalation.

    ``latency_ms.persist_reply`` and ``total`` are measured up to the statement that writes the
    reply (it cannot time itself), and so exclude that statement and the commit.
    """
    start = time.perf_counter()
    user_message.risk_level = assessment.level
    user_message.risk_category = assessment.category or ""
    user_message.risk_score = assessment.score
    user_message.risk_urgency = assessment.urgency or ""
    user_message.safety_rule_hits = list(assessment.rule_hits)
    user_message.risk_reason = {"exemplar": turn.exemplar} if turn.exemplar else {}
    writes = [
        session_state_update(
            session.pk,
            level=assessment.level,
            score=assessment.score,
            confidence=assessment.confidence,
            next_flow_step=turn.next_flow_step,
            enter_safety_mode=turn.enter_safety_mode,
            leave_safety_mode=turn.leave_safety_mode,
        ),
        (*update_statement(user_message, RISK_FIELDS), 0),
    ]
    if turn.emergency:
        with transaction.atomic():
            written, _ = rows_write(writes)
            locked = _session_written(session, written)
            escalation, created = escalation_open(session=locked, message=user_message)
            turn.provenance["escalation_id"] = escalation.pk
            turn.provenance["escalation_created"] = created
            reply = _reply_message(locked, user_message, assessment, turn, start, total_start)
            row_insert(reply)
        return reply, locked
    reply = _reply_message(session, user_message, assessment, turn, start, total_start)
    written, _, stored = rows_write([*writes, (*insert_statement(reply), 1)])
    locked = _session_written(session, written)
    mark_stored(reply, stored[0])
    reply.session = locked
    return reply, locked


def chat_turn_run(
    *,
    session: ChatSession | None = None,
    user=None,
    session_public_id=None,
    text,
    idempotency_key: str = "",
    generator=None,
    safety_classifier=None,
    intent_classifier=None,
) -> TurnResult:
    """Run one chat turn for ``session`` (or ``user``'s session ``session_public_id``: anyone
    else's is a 404) and return the stored user message and reply.

    With an ``idempotency_key`` already used in this session, the first result is returned
    (``replayed=True``) instead of a second turn; a key reused for different text is refused.
    """
    total_start = time.perf_counter()
    if session is None and (user is None or session_public_id is None):
        raise TypeError("chat_turn_run needs session, or user and session_public_id")
    text = message_text_clean(text)
    key = _idempotency_key_clean(idempotency_key)

    start = time.perf_counter()
    store = {
        "session": session,
        "user": user,
        "public_id": session_public_id,
        "text": text,
        "idempotency_key": key,
    }
    try:
        user_message, created = message_user_create(**store)
    except IntegrityError:
        # A concurrent retry stored the same key first (the session lock normally orders
        # them): that transaction has committed, so looking again finds its message.
        if not key:
            raise
        user_message, created = message_user_create(**store)
    persist_user_ms = _ms(start) if created else 0.0
    if not created:
        if user_message.text != text:
            raise ApplicationError(
                "This Idempotency-Key was already used for a different message.",
                status_code=422,
            )
        reply = getattr(user_message, "reply", None)
        if reply is not None:
            return TurnResult(
                user_message=user_message,
                reply=reply,
                replayed=True,
                session=user_message.session,
            )
        # A turn that never got its reply (its process died): finish it now.

    turn = _Turn()
    turn.latency["persist_user"] = persist_user_ms
    session = user_message.session  # as read when the message was stored
    history = session_history(session=session, before_id=user_message.pk, limit=20)
    assessment = _assess(safety_classifier, user_message.text, safety_context(history), turn)
    fixed = fixed_replies_get()
    catalogue = crisis_catalogue_get()

    if assessment.level == RiskLevel.HIGH:
        _emergency_turn(turn, session, fixed, user_message.text, catalogue)
    elif session.safety_mode:
        _safety_mode_turn(
            turn, session, fixed, assessment, user_message.text, catalogue, intent_classifier
        )
    else:
        _generated_turn(
            turn,
            session,
            user_message,
            assessment,
            fixed,
            catalogue,
            history=history,
            generator=generator,
            intent_classifier=intent_classifier,
        )
    if turn.needs_resources and not turn.resources:
        turn.resources = _resources(session)

    try:
        reply, session = _persist(session, user_message, assessment, turn, total_start)
    except IntegrityError:
        # A concurrent retry of the same message wrote the reply first: return that one.
        reply = Message.objects.filter(reply_to=user_message).first()
        if reply is None:
            raise
        session = ChatSession.objects.get(pk=session.pk)
        return TurnResult(user_message=user_message, reply=reply, replayed=True, session=session)
    logger.info(
        "chat turn session_id=%s message_id=%s reply_id=%s risk=%s emergency=%s ms=%s",
        session.pk,
        user_message.pk,
        reply.pk,
        assessment.level,
        turn.emergency,
        turn.latency.get("total"),
    )
    return TurnResult(user_message=user_message, reply=reply, session=session)
