"""The chat API: sessions, messages (with Idempotency-Key), end, rating, preferences."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from conversations.models import ChatSession, Message
from tests.conftest import client_for

NEUTRAL = "I keep feeling like I'm not good enough at work."
HIGH_RISK = "I want to end my life tonight"


@pytest.fixture
def api(enduser):
    return client_for(enduser)


@pytest.fixture
def open_session(api, chat_ready):
    response = api.post("/api/v1/sessions/", {"session_type": "gentle_deep"}, format="json")
    assert response.status_code == 201
    return response.json()


def messages_url(session_id) -> str:
    return f"/api/v1/sessions/{session_id}/messages/"


# --- Permissions --------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/sessions/"),
    ("post", "/api/v1/sessions/"),
    ("get", "/api/v1/sessions/{id}/"),
    ("post", "/api/v1/sessions/{id}/messages/"),
    ("post", "/api/v1/sessions/{id}/end/"),
    ("post", "/api/v1/sessions/{id}/rating/"),
    ("get", "/api/v1/preferences/"),
    ("put", "/api/v1/preferences/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_is_refused(db, method, url):
    response = getattr(APIClient(), method)(url.format(id=uuid.uuid4()), {}, format="json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("role", ["clinician", "admin_user"])
def test_other_roles_are_refused(request, method, url, role):
    client = client_for(request.getfixturevalue(role))
    response = getattr(client, method)(url.format(id=uuid.uuid4()), {}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "messages/", {"text": "hello"}),
        ("post", "end/", None),
        ("post", "rating/", {"stars": 5}),
    ],
)
def test_someone_elses_session_is_not_found(
    chat_ready, enduser, other_enduser, method, suffix, body
):
    theirs = client_for(other_enduser).post(
        "/api/v1/sessions/", {"session_type": "check_in"}, format="json"
    )
    url = f"/api/v1/sessions/{theirs.json()['id']}/{suffix}"
    response = getattr(client_for(enduser), method)(url, body, format="json")
    assert response.status_code == 404
    assert not Message.objects.exists()
    assert ChatSession.objects.get().status == "open"


# --- Sessions ----------------------------------------------------------------------------------


def test_create_session(api, chat_ready):
    response = api.post(
        "/api/v1/sessions/",
        {"session_type": "micro_practice", "preferences": {"tone": "warm"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    uuid.UUID(body["id"])
    assert body["session_type"] == "micro_practice"
    assert body["status"] == "open"
    assert body["flow_step"] == "invite"
    assert body["preferences"] == {"session_length": "standard", "tone": "warm"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"session_type": "therapy"}, "session_type"),
        ({}, "session_type"),
        ({"session_type": "check_in", "preferences": {"tone": "harsh"}}, "preferences"),
    ],
)
def test_bad_session_input_is_a_clear_400(api, chat_ready, body, field):
    response = api.post("/api/v1/sessions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)
    assert not ChatSession.objects.exists()


def test_malformed_json_is_a_clear_400(api, open_session):
    for url in ("/api/v1/sessions/", messages_url(open_session["id"])):
        response = api.post(url, data="{not json", content_type="application/json")
        assert response.status_code == 400
        assert "JSON parse error" in response.json()["detail"]
    assert ChatSession.objects.count() == 1
    assert not Message.objects.exists()


def test_list_shows_only_my_sessions_paginated(api, chat_ready, enduser, other_enduser):
    for _ in range(3):
        api.post("/api/v1/sessions/", {"session_type": "check_in"}, format="json")
    client_for(other_enduser).post("/api/v1/sessions/", {"session_type": "check_in"}, format="json")

    response = api.get("/api/v1/sessions/?page_size=2")
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3
    assert len(body["results"]) == 2 and body["next"]
    assert {"id", "session_type", "status", "message_count"} <= set(body["results"][0])


def test_list_uses_a_fixed_number_of_queries(
    api, chat_ready, enduser, django_assert_max_num_queries
):
    for _ in range(5):
        session = api.post("/api/v1/sessions/", {"session_type": "check_in"}, format="json")
        api.post(messages_url(session.json()["id"]), {"text": "hi"}, format="json")
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/sessions/")
    assert response.json()["count"] == 5


# --- Messages ----------------------------------------------------------------------------------


def test_send_message_returns_the_turn(api, open_session):
    response = api.post(messages_url(open_session["id"]), {"text": NEUTRAL}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["user_message"]["text"] == NEUTRAL
    reply = body["reply"]
    assert reply["text"]
    assert {"text", "intent", "risk_level", "emergency", "resources"} <= set(reply)
    assert reply["emergency"] is False and reply["resources"] == []
    assert body["session"]["flow_step"] == "consent"


def test_high_risk_message_returns_the_emergency_reply_with_resources(api, open_session):
    response = api.post(messages_url(open_session["id"]), {"text": HIGH_RISK}, format="json")

    reply = response.json()["reply"]
    assert response.status_code == 201
    assert reply["emergency"] is True
    assert reply["risk_level"] == "high"
    assert reply["intent"] == "emergency"
    contacts = {r["name"]: r["contact"] for r in reply["resources"]}
    assert contacts == {
        "988 Suicide & Crisis Lifeline": "Call or text 988",
        "Crisis Text Line": "Text HOME to 741741",
    }
    assert response.json()["session"]["safety_mode"] is True


def test_idempotency_key_replays_the_first_result(api, open_session):
    url = messages_url(open_session["id"])
    first = api.post(url, {"text": NEUTRAL}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    second = api.post(url, {"text": NEUTRAL}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == second.status_code == 201
    assert second.json()["reply"]["id"] == first.json()["reply"]["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Message.objects.count() == 2


def test_idempotency_key_with_different_text_is_refused(api, open_session):
    url = messages_url(open_session["id"])
    api.post(url, {"text": NEUTRAL}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api.post(url, {"text": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "must not be empty"),
        ({"text": "   \n  "}, "must not be empty"),
        ({"text": "x" * 4001}, "at most 4,000 characters"),
        ({}, "required"),
    ],
)
def test_bad_message_is_a_clear_400_and_nothing_is_stored(api, open_session, body, message):
    response = api.post(messages_url(open_session["id"]), body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Message.objects.exists()


def test_exactly_4000_characters_is_accepted(api, open_session):
    response = api.post(messages_url(open_session["id"]), {"text": "a" * 4000}, format="json")
    assert response.status_code == 201


def test_message_to_an_ended_session_is_a_400(api, open_session):
    api.post(f"/api/v1/sessions/{open_session['id']}/end/")
    response = api.post(messages_url(open_session["id"]), {"text": NEUTRAL}, format="json")
    assert response.status_code == 400
    assert "ended" in response.json()["detail"]
    assert not Message.objects.exists()


def test_transcript_lists_the_messages_in_order(api, open_session):
    url = messages_url(open_session["id"])
    api.post(url, {"text": "first"}, format="json")
    api.post(url, {"text": "second"}, format="json")

    body = api.get(f"/api/v1/sessions/{open_session['id']}/").json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"] * 2
    assert [m["text"] for m in body["messages"][::2]] == ["first", "second"]


# --- End, rating, preferences ------------------------------------------------------------------


def test_end_stores_a_summary_and_can_be_repeated(api, open_session):
    api.post(messages_url(open_session["id"]), {"text": NEUTRAL}, format="json")
    first = api.post(f"/api/v1/sessions/{open_session['id']}/end/")
    again = api.post(f"/api/v1/sessions/{open_session['id']}/end/")

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "ended"
    summary = first.json()["summary"]
    assert summary.startswith("We ") and summary.endswith(".")  # sentences, not a keyword list
    assert "Themes:" not in summary
    assert again.json()["ended_at"] == first.json()["ended_at"]

    following = api.post("/api/v1/sessions/", {"session_type": "check_in"}, format="json")
    assert following.json()["previous_summary"] == first.json()["summary"]


def test_rating_an_ended_session(api, open_session):
    api.post(f"/api/v1/sessions/{open_session['id']}/end/")
    response = api.post(
        f"/api/v1/sessions/{open_session['id']}/rating/",
        {"stars": 4, "comment": "Gentle and helpful."},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["rating_stars"] == 4
    assert response.json()["rating_comment"] == "Gentle and helpful."


@pytest.mark.parametrize("stars", [0, 6, "abc", None])
def test_bad_rating_is_a_clear_400(api, open_session, stars):
    api.post(f"/api/v1/sessions/{open_session['id']}/end/")
    response = api.post(
        f"/api/v1/sessions/{open_session['id']}/rating/", {"stars": stars}, format="json"
    )
    assert response.status_code == 400
    assert "stars" in response.json()["detail"]
    assert ChatSession.objects.get().rating_stars is None


def test_rating_an_open_session_is_refused(api, open_session):
    response = api.post(
        f"/api/v1/sessions/{open_session['id']}/rating/", {"stars": 5}, format="json"
    )
    assert response.status_code == 400
    assert "End the session" in response.json()["detail"]


def test_preferences_are_defaults_for_new_sessions(api, chat_ready):
    assert api.get("/api/v1/preferences/").json() == {
        "session_length": "standard",
        "tone": "gentle",
    }
    response = api.put("/api/v1/preferences/", {"session_length": "short"}, format="json")
    assert response.json() == {"session_length": "short", "tone": "gentle"}
    created = api.post("/api/v1/sessions/", {"session_type": "check_in"}, format="json")
    assert created.json()["preferences"]["session_length"] == "short"
    bad = api.put("/api/v1/preferences/", {"tone": "harsh"}, format="json")
    assert bad.status_code == 400


def test_crisis_resources_and_ping(api, chat_ready):
    resources = api.get("/api/v1/crisis-resources/").json()
    assert [r["contact"] for r in resources] == ["Call or text 988", "Text HOME to 741741"]
    assert api.get("/api/v1/ping").json() == {"ok": True}


def test_openapi_schema_documents_the_chat_api(api, chat_ready):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    messages = paths["/api/v1/sessions/{session_id}/messages/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in messages["parameters"]]
    assert "201" in messages["responses"]
    for path in (
        "/api/v1/sessions/",
        "/api/v1/sessions/{session_id}/",
        "/api/v1/sessions/{session_id}/end/",
        "/api/v1/sessions/{session_id}/rating/",
        "/api/v1/preferences/",
    ):
        assert path in paths


# --- Clinician alerts ----------------------------------------------------------------------------


def test_on_call_clinician_sees_and_reads_the_escalation_alert(api, open_session, clinician):
    api.post(messages_url(open_session["id"]), {"text": HIGH_RISK}, format="json")
    staff = client_for(clinician)

    alerts = staff.get("/api/v1/alerts/?unread=1").json()["results"]
    assert len(alerts) == 1
    assert alerts[0]["escalation_status"] == "open"
    assert set(alerts[0]) == {
        "id",
        "escalation_id",
        "escalation_status",
        "session_id",
        "created_at",
        "read_at",
    }  # ids only: no text, no identity

    read = staff.post(f"/api/v1/alerts/{alerts[0]['id']}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert staff.get("/api/v1/alerts/?unread=1").json()["results"] == []
    assert len(staff.get("/api/v1/alerts/").json()["results"]) == 1


def test_alerts_are_for_clinicians_only_and_private(api, open_session, clinician, admin_user):
    api.post(messages_url(open_session["id"]), {"text": HIGH_RISK}, format="json")
    assert api.get("/api/v1/alerts/").status_code == 403
    alert_id = client_for(clinician).get("/api/v1/alerts/").json()["results"][0]["id"]
    assert client_for(admin_user).post(f"/api/v1/alerts/{alert_id}/read/").status_code == 404
