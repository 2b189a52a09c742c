"""The chat benchmark's floor: the least a chat turn can cost over HTTP (``bench_chat --floor``).

Mounted only by the benchmark's URLconf (``conversations.bench_urls``, used by the gunicorn that
``bench_chat --floor`` starts); production URLs never include it.

``POST /api/v1/bench/floor/<session id>/`` ``{"text"}`` does, for the same authenticated end user
as the real endpoint, the durable writes that every chat turn must make, each transaction written
as one PostgreSQL statement (the cheapest form it can take):

1. lock the session, store the user message (the ``Idempotency-Key`` checked by the INSERT) and
   read the history, and commit;
2. store the assessment on the message, the session's new state and the reply, and commit.

With ``?models=1`` the real safety classifier, generator, intent classifier and response filter
run between the two. Nothing else of a turn is done: no flow logic, no emergency or safety-check
path, no per-stage timing or provenance, a short response body. So on the same machine the
writes-only throughput bounds every turn, and the one with the models bounds every turn that
generates a reply; the benchmark reports both beside the real endpoint (docs/chat-throughput.md).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from ari_review.api.errors import ApplicationError
from ari_review.rows import insert_columns_and_params
from conversations.backends.base import GenerationRequest
from conversations.backends.classifiers import get_intent_classifier, get_safety_classifier
from conversations.backends.generation import get_generator
from conversations.models import ChatSession, Message
from conversations.selectors import (
    crisis_catalogue_get,
    fixed_replies_get,
    persona_prompt_get_active,
)
from conversations.services.filter import response_filter_apply
from conversations.services.pipeline import intent_predict, message_text_clean, safety_context

HISTORY_TURNS = 20
NO_MODELS_REPLY = "Thank you for telling me. What feels most important about it right now?"


def _session_columns() -> str:
    return ", ".join(f'"{field.column}"' for field in ChatSession._meta.concrete_fields)


@lru_cache(maxsize=1)
def _store_message_sql() -> str:
    """Lock the user's session, INSERT the message if the session is open and the key unused,
    and return the session's id, the new message's id (NULL if not stored) and the history."""
    columns, _ = insert_columns_and_params(_user_message(0, "", ""))
    values = ", ".join("s.id" if column == '"session_id"' else "%s" for column in columns)
    session, message = ChatSession._meta.db_table, Message._meta.db_table
    return (
        f'WITH s AS (SELECT {_session_columns()} FROM "{session}" '  # noqa: S608
        'WHERE "public_id" = %s AND "user_id" = %s FOR UPDATE), '
        f'm AS (INSERT INTO "{message}" ({", ".join(columns)}) SELECT {values} FROM s '
        f"WHERE s.status = '{ChatSession.Status.OPEN.value}' "
        'ON CONFLICT DO NOTHING RETURNING "id") '
        "SELECT s.id, (SELECT id FROM m), (SELECT json_agg(h) FROM ("
        f'SELECT "role", "text", "flow_step", "risk_level" FROM "{message}" '
        f'WHERE "session_id" = s.id ORDER BY "id" DESC LIMIT {HISTORY_TURNS}) h) FROM s'
    )


@lru_cache(maxsize=1)
def _store_reply_sql() -> str:
    """UPDATE the session's state and the user message's assessment, INSERT the reply."""
    columns, _ = insert_columns_and_params(_reply(0, 0, "", "", ""))
    session, message = ChatSession._meta.db_table, Message._meta.db_table
    return (
        f'WITH s AS (UPDATE "{session}" SET "min_safety_confidence" = CASE '  # noqa: S608
        'WHEN "min_safety_confidence" IS NULL OR "min_safety_confidence" > %s THEN %s '
        'ELSE "min_safety_confidence" END WHERE "id" = %s '
        f"RETURNING {_session_columns()}), "
        f'u AS (UPDATE "{message}" SET "risk_level" = %s, "risk_score" = %s, '
        '"risk_urgency" = %s WHERE "id" = %s), '
        f'r AS (INSERT INTO "{message}" ({", ".join(columns)}) '
        f'VALUES ({", ".join(["%s"] * len(columns))}) RETURNING "id") '
        "SELECT r.id FROM s, r"
    )


def _user_message(session_pk: int, text: str, key: str) -> Message:
    return Message(session_id=session_pk, role=Message.Role.USER, text=text, idempotency_key=key)


def _reply(session_pk: int, user_message_pk: int, text: str, intent: str, risk: str) -> Message:
    return Message(
        session_id=session_pk,
        role=Message.Role.ASSISTANT,
        reply_to_id=user_message_pk,
        text=text,
        intent=intent,
        risk_level=risk,
    )


class TurnFloorApi(EndUserApi):
    """The floor of one chat turn (see the module's docstring). PostgreSQL only."""

    def post(self, request, session_id):
        if connection.vendor != "postgresql":
            raise ApplicationError("The benchmark's floor needs PostgreSQL.", status_code=501)
        body = request.data if isinstance(request.data, dict) else {}
        text = message_text_clean(body.get("text"))
        key = request.headers.get("Idempotency-Key", "")
        columns, params = insert_columns_and_params(_user_message(0, text, key))
        del params[columns.index('"session_id"')]  # the session's id comes from the lock
        with connection.cursor() as cursor:
            cursor.execute(_store_message_sql(), [session_id, request.user.pk, *params])
            row = cursor.fetchone()
        if row is None:
            raise Http404("No such session.")
        session_pk, message_pk, history_json = row
        if message_pk is None:
            raise ApplicationError("The session has ended or the Idempotency-Key was used.")
        history = [  # json_agg arrives as a list (psycopg reads json), newest first
            (h["role"], h["text"], h["flow_step"], h["risk_level"]) for h in history_json or []
        ][::-1]

        reply_text, intent, risk, score = NO_MODELS_REPLY, "probe_story", "none", 0.01
        if request.query_params.get("models") == "1":
            assessment = get_safety_classifier().assess(text, history=safety_context(history))
            risk, score = assessment.level, assessment.score
            persona = persona_prompt_get_active()
            generated = get_generator().generate(
                GenerationRequest(
                    user_text=text,
                    session_type="gentle_deep",
                    flow_step="story",
                    persona=persona.text if persona else "",
                    history=tuple((role, said) for role, said, _, _ in history),
                    risk_level=risk,
                )
            )
            intent = intent_predict(get_intent_classifier(), generated.text).intent
            reply_text = response_filter_apply(
                text=generated.text,
                catalogue=crisis_catalogue_get(),
                risk_level=risk,
                user_text=text,
                safety_prompt_text=fixed_replies_get().medium_risk_text,
            ).text

        confidence = round(max(score, 1.0 - score), 4)
        _, reply_params = insert_columns_and_params(
            _reply(session_pk, message_pk, reply_text, intent, risk)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _store_reply_sql(),
                [confidence, confidence, session_pk, risk, score, risk, message_pk, *reply_params],
            )
            (reply_pk,) = cursor.fetchone()
        return Response(
            {
                "user_message": {"id": message_pk},
                "reply": {"id": reply_pk, "text": reply_text, "intent": intent, "risk_level": risk},
            },
            status=status.HTTP_201_CREATED,
        )
