"""The chat benchmark's floor: the least a chat turn can cost over HTTP (``bench_chat --floor``).

Mounted only by the benchmark's URLconf (``conversations.bench_urls``, used by the gunicorn that
``bench_chat --floor`` starts); production URLs never include it.

``POST /api/v1/bench/floor/<session id>/`` ``{"text"}`` does, for the same authenticated end user
as the real endpoint, the durable writes that every chat turn must make, as the turn makes them
(each transaction one PostgreSQL statement, ``ari_review.rows``):

1. store the user message under the session's lock (``message_user_create``, the
   ``Idempotency-Key`` checked by the INSERT), then read the history;
2. store the assessment on the message, the session's new state and the reply.

With ``?models=1`` the real safety classifier, generator, intent classifier and response filter
run between the two. Nothing else of a turn is done: no flow logic, no emergency or safety-check
path, no per-stage timing or provenance, a short response body. So on the same machine the
writes-only throughput bounds every turn, and the one with the models bounds every turn that
generates a reply; the benchmark reports both beside the real endpoint (docs/chat-throughput.md).
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from ari_review.api.errors import ApplicationError
from ari_review.rows import insert_statement, rows_write, update_statement
from conversations.backends.base import GenerationRequest
from conversations.backends.classifiers import get_intent_classifier, get_safety_classifier
from conversations.backends.generation import get_generator
from conversations.models import Message
from conversations.selectors import (
    crisis_catalogue_get,
    fixed_replies_get,
    persona_prompt_get_active,
    session_history,
)
from conversations.services.filter import response_filter_apply
from conversations.services.pipeline import (
    intent_predict,
    message_text_clean,
    message_user_create,
    safety_context,
    session_state_update,
)

NO_MODELS_REPLY = "Thank you for telling me. What feels most important about it right now?"


class TurnFloorApi(EndUserApi):
    """The floor of one chat turn (see the module's docstring)."""

    def post(self, request, session_id):
        body = request.data if isinstance(request.data, dict) else {}
        message, created = message_user_create(
            user=request.user,
            public_id=session_id,
            text=message_text_clean(body.get("text")),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        if not created:
            raise ApplicationError("This Idempotency-Key was already used.")
        session = message.session
        history = session_history(session=session, before_id=message.pk, limit=20)

        text, intent, risk, score = NO_MODELS_REPLY, "probe_story", "none", 0.01
        if request.query_params.get("models") == "1":
            assessment = get_safety_classifier().assess(
                message.text, history=safety_context(history)
            )
            risk, score = assessment.level, assessment.score
            persona = persona_prompt_get_active()
            generated = get_generator().generate(
                GenerationRequest(
                    user_text=message.text,
                    session_type=session.session_type,
                    flow_step=session.flow_step,
                    persona=persona.text if persona else "",
                    history=tuple((role, said) for role, said, _, _ in history),
                    preferences=dict(session.preferences or {}),
                    risk_level=risk,
                )
            )
            intent = intent_predict(get_intent_classifier(), generated.text).intent
            text = response_filter_apply(
                text=generated.text,
                catalogue=crisis_catalogue_get(),
                risk_level=risk,
                user_text=message.text,
                safety_prompt_text=fixed_replies_get().medium_risk_text,
            ).text

        message.risk_level, message.risk_score = risk, score
        reply = Message(
            session=session,
            role=Message.Role.ASSISTANT,
            reply_to=message,
            text=text,
            intent=intent,
            risk_level=risk,
        )
        _, _, (reply_pk,) = rows_write(
            [
                session_state_update(session.pk, level=risk, score=score),
                (*update_statement(message, ("risk_level", "risk_score")), 0),
                (*insert_statement(reply), 1),
            ]
        )
        return Response(
            {
                "user_message": {"id": message.pk},
                "reply": {"id": reply_pk, "text": text, "intent": intent, "risk_level": risk},
            },
            status=status.HTTP_201_CREATED,
        )
