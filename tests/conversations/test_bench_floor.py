"""The chat benchmark's floor endpoint (conversations/bench_floor.py): it makes a turn's durable
writes, with the models when asked, and exists only in the benchmark's URLconf."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conversations.models import ChatSession, Intent, Message
from conversations.services import session_create, session_end
from tests.conftest import client_for

pytestmark = pytest.mark.urls("conversations.bench_urls")
TEXT = "I keep feeling like I'm not good enough at work."


def floor_url(session, models: bool = False) -> str:
    return f"/api/v1/bench/floor/{session.public_id}/" + ("?models=1" if models else "")


@pytest.fixture
def session(enduser, chat_ready):
    return session_create(user=enduser, session_type="gentle_deep")


def test_floor_stores_the_user_message_the_assessment_the_reply_and_the_session_state(
    enduser, session
):
    api = client_for(enduser)
    first = api.post(
        floor_url(session), {"text": f"  {TEXT} "}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    second = api.post(floor_url(session), {"text": "Still here."}, format="json")

    assert first.status_code == 201 and second.status_code == 201
    user_message, reply, *_ = Message.objects.filter(session=session).order_by("id")
    assert first.json()["user_message"]["id"] == user_message.pk
    assert first.json()["reply"]["id"] == reply.pk
    assert (user_message.role, user_message.text, user_message.idempotency_key) == (
        "user",
        TEXT,
        "k1",
    )
    assert user_message.risk_level == "none" and user_message.risk_score == pytest.approx(0.01)
    assert reply.role == "assistant" and reply.reply_to_id == user_message.pk
    assert reply.text == first.json()["reply"]["text"]
    assert user_message.created_at is not None and reply.created_at >= user_message.created_at
    session.refresh_from_db()
    assert session.min_safety_confidence == pytest.approx(0.99)
    assert Message.objects.filter(session=session).count() == 4


def test_floor_with_models_replies_with_approved_filtered_text_and_a_real_intent(enduser, session):
    response = client_for(enduser).post(
        floor_url(session, models=True), {"text": TEXT}, format="json"
    )

    assert response.status_code == 201
    body = response.json()["reply"]
    assert body["intent"] in Intent.values
    assert body["risk_level"] in {"none", "low", "medium"}
    reply = Message.objects.get(pk=body["id"])
    assert reply.text == body["text"] and reply.text
    user_message = Message.objects.get(pk=reply.reply_to_id)
    assert user_message.risk_level == body["risk_level"]
    assert 0.0 <= user_message.risk_score <= 1.0


def test_floor_refuses_a_used_key_an_ended_session_and_other_peoples_sessions(
    enduser, other_enduser, session
):
    api = client_for(enduser)
    assert (
        api.post(
            floor_url(session), {"text": TEXT}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        ).status_code
        == 201
    )
    assert (
        api.post(
            floor_url(session), {"text": TEXT}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        ).status_code
        == 400
    )
    assert (
        client_for(other_enduser)
        .post(floor_url(session), {"text": TEXT}, format="json")
        .status_code
        == 404
    )
    assert api.post(floor_url(session), {"text": "   "}, format="json").status_code == 400
    assert APIClient().post(floor_url(session), {"text": TEXT}, format="json").status_code in {
        401,
        403,
    }

    ended = session_end(session=session_create(user=enduser, session_type="check_in"))
    assert ended.status == ChatSession.Status.ENDED
    assert api.post(floor_url(ended), {"text": TEXT}, format="json").status_code == 400
    assert not Message.objects.filter(session=ended).exists()
    assert Message.objects.filter(session=session).count() == 2


@pytest.mark.urls("ari_review.urls")
def test_production_urls_do_not_serve_the_floor(enduser, session):
    assert (
        client_for(enduser).post(floor_url(session), {"text": TEXT}, format="json").status_code
        == 404
    )
