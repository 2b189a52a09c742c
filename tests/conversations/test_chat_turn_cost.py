"""What one chat turn costs: bounded queries, cached configuration that changes take effect on at
once in this process, and the hand-built response bodies equal to the declared serializers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from ari_review.ttl_cache import ttl_cache_clear
from conversations.apis.common import (
    SessionOutputSerializer,
    reply_payload,
    session_payload,
    user_message_payload,
)
from conversations.apis.messages import MessageCreateApi
from conversations.backends.generation.approved import approved_index_get
from conversations.models import ChatSession, Message
from conversations.services import chat_turn_run, session_create, session_end, session_rate
from evaluation.services import (
    dialogue_approve,
    dialogue_create,
    dialogue_submit,
    dialogue_update,
)
from evaluation.services.dialogues import CHECKLIST_KEYS
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.training_jobs.fixtures import safety_version_copy
from training_jobs.models import ModelVersion
from training_jobs.releases.registry import model_version_activate

NEUTRAL = "I keep feeling like I'm not good enough at work."
HIGH_RISK = "I want to end my life tonight"
# Statements of one API turn once the configuration is cached (force_authenticate: no auth
# queries), on PostgreSQL, in the ORM: the message's transaction (the session, locked; with an
# Idempotency-Key, the lookup of an earlier message; the INSERT), the history, then the turn's
# transaction under the session's lock (the session, locked; no reply stored yet; the assessment
# on the message; the session's new state; the reply).
TURN_STATEMENTS = 8


@pytest.fixture
def cached_config(settings):
    """Configuration cached as in production (the chat tests otherwise turn the cache off)."""
    settings.ARI_CONFIG_CACHE_SECONDS = 60
    ttl_cache_clear()


@pytest.fixture
def api(enduser):
    return client_for(enduser)


def _send(api, session: ChatSession, text: str = NEUTRAL, **headers):
    url = f"/api/v1/sessions/{session.public_id}/messages/"
    response = api.post(url, {"text": text}, format="json", **headers)
    assert response.status_code == 201, response.content
    return response.json()


# --- Queries ------------------------------------------------------------------------------------


def test_a_chat_turn_uses_a_bounded_number_of_queries(api, chat_ready, session, cached_config):
    _send(api, session, "Hi Ari")  # warms the configuration cache

    with CaptureQueriesContext(connection) as plain:
        _send(api, session)
    with CaptureQueriesContext(connection) as keyed:
        _send(api, session, "Work has been a lot.", HTTP_IDEMPOTENCY_KEY="turn-3")

    for captured, extra in ((plain, 0), (keyed, 1)):
        sql = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(sql) == TURN_STATEMENTS + extra, sql
        assert sql[0].endswith("FOR UPDATE")  # the message is stored under the session's lock
        assert sql[1 + extra].startswith('INSERT INTO "conversations_message"')
        turn = sql[3 + extra :]
        assert turn[0].endswith("FOR UPDATE")  # the turn is written under the session's lock
        assert turn[-1].startswith('INSERT INTO "conversations_message"')
    assert Message.objects.filter(session=session).count() == 6


def test_a_replayed_turn_is_two_queries_and_writes_nothing(api, chat_ready, session, cached_config):
    first = _send(api, session, HTTP_IDEMPOTENCY_KEY="again")
    with CaptureQueriesContext(connection) as replay:
        second = _send(api, session, HTTP_IDEMPOTENCY_KEY="again")

    assert second == first
    sql = [q["sql"] for q in replay.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The session, locked; the earlier message with its reply.
    assert len(sql) == 2, sql
    assert sql[0].endswith("FOR UPDATE")
    assert all(not q.startswith(("INSERT", "UPDATE")) for q in sql)
    assert Message.objects.count() == 2


# --- Cached configuration ------------------------------------------------------------------------


def test_model_activation_is_seen_by_the_next_turn_in_this_process(
    chat_ready, session, trained_models, admin_user, cached_config
):
    first = chat_turn_run(session=session, text="Hi Ari").reply
    assert first.model_versions["safety"] == chat_ready["safety"].name

    model_version_activate(
        version=safety_version_copy(trained_models, "safety-next"), user=admin_user
    )

    reply = chat_turn_run(session=session, text=NEUTRAL).reply
    assert reply.model_versions["safety"] == "safety-next"


def test_a_version_switched_outside_the_services_is_seen_once_the_cache_expires(
    chat_ready, session, trained_models, cached_config
):
    chat_turn_run(session=session, text="Hi Ari")
    ModelVersion.objects.filter(kind="safety").update(is_active=False)
    ModelVersion.objects.filter(
        pk=safety_version_copy(trained_models, "safety-elsewhere").pk
    ).update(is_active=True)

    cached = chat_turn_run(session=session, text=NEUTRAL).reply
    assert cached.model_versions["safety"] == chat_ready["safety"].name
    ttl_cache_clear()  # what the time-to-live does
    fresh = chat_turn_run(session=session, text="Still here.").reply
    assert fresh.model_versions["safety"] == "safety-elsewhere"


def test_approving_or_editing_a_dialogue_rebuilds_the_approved_index_at_once(
    starter_content, cached_config
):
    author, reviewer = (
        UserFactory(username="author", role="clinician"),
        UserFactory(username="reviewer", role="clinician"),
    )
    before = approved_index_get()
    assert approved_index_get() is before
    messages = [
        {"role": "user", "content": "purple elephants keep me awake"},
        {"role": "assistant", "content": "That sounds exhausting. What keeps coming back?"},
    ]
    dialogue = dialogue_create(author=author, messages=messages, session_type="gentle_deep")
    dialogue = dialogue_submit(dialogue=dialogue, user=author)
    assert approved_index_get() is before  # not approved yet

    dialogue_approve(
        dialogue=dialogue, reviewer=reviewer, checklist=dict.fromkeys(CHECKLIST_KEYS, True)
    )
    approved = approved_index_get()
    assert approved is not before
    assert dialogue.pk in {pair.dialogue_id for pair in approved.pairs}

    dialogue_update(dialogue=dialogue, editor=author, title="Back to draft")
    assert dialogue.pk not in {pair.dialogue_id for pair in approved_index_get().pairs}


# --- Response bodies -----------------------------------------------------------------------------


def _render(data) -> bytes:
    return JSONRenderer().render(data)


def test_turn_payloads_equal_the_declared_serializers(api, chat_ready, session):
    calm = chat_turn_run(session=session, text=NEUTRAL)
    emergency = chat_turn_run(session=session, text=HIGH_RISK)
    assert emergency.reply.resources  # the crisis resources are part of the body

    for result in (calm, emergency):
        assert _render(user_message_payload(result.user_message)) == _render(
            MessageCreateApi.UserMessageSerializer(result.user_message).data
        )
        assert _render(reply_payload(result.reply)) == _render(
            MessageCreateApi.ReplySerializer(result.reply).data
        )
        assert _render(session_payload(result.session)) == _render(
            SessionOutputSerializer(result.session).data
        )


def test_session_payload_equals_the_serializer_for_an_ended_rated_session(enduser, chat_ready):
    session = session_create(user=enduser, session_type="check_in", preferences={"tone": "direct"})
    chat_turn_run(session=session, text=NEUTRAL)
    session = session_rate(session=session_end(session=session), stars=4, comment="Helpful")
    session.refresh_from_db()

    assert session.ended_at is not None and session.rating_stars == 4
    assert _render(session_payload(session)) == _render(SessionOutputSerializer(session).data)


def test_invalid_text_for_someone_elses_session_is_still_a_404(chat_ready, enduser):
    theirs = session_create(
        user=UserFactory(username="carol", role="enduser"), session_type="check_in"
    )
    url = f"/api/v1/sessions/{theirs.public_id}/messages/"
    response = client_for(enduser).post(url, {"text": ""}, format="json")
    assert response.status_code == 404
    assert not Message.objects.exists()
