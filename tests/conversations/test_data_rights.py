"""Privacy rights (docs/privacy.md): end users download and erase their data (API and pages),
old sessions are purged after ARI_RETENTION_DAYS, and staff see masked text unless they give a
reason to reveal it. Every one of these is audited with ids and counts, never message text."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from ari_review.models import AuditEvent
from conversations.models import ChatPreferences, ChatSession, Escalation, Message, RiskExemplar
from conversations.services import sessions_retention_purge, user_data_erase, user_data_export
from conversations.tasks import sessions_retention_purge_task
from evaluation.models import ReplyAssessment, SafetyLabel, SessionRating, WorkItem
from tests.conftest import client_for
from tests.factories import (
    ChatSessionFactory,
    EscalationFactory,
    LabelItemFactory,
    ReviewItemFactory,
)

EMAIL = "jane.doe@example.org"
PHONE = "+1 (555) 123-4567"
PII_TEXT = f"My name is Jane, write to {EMAIL} or call {PHONE}."
TURNS = [
    (PII_TEXT, "Thank you for telling me. What feels heaviest?"),
    ("Work keeps piling up.", "It makes sense you feel stretched."),
]


def _session(user, **kwargs) -> ChatSession:
    return ChatSessionFactory(user=user, turns=TURNS, **kwargs)


def _audit_text(action: str) -> str:
    events = AuditEvent.objects.filter(action=action)
    return json.dumps([[e.object_id, e.before, e.after] for e in events])


def _assert_no_message_text(action: str) -> None:
    dump = _audit_text(action)
    for text in (EMAIL, "Jane", "Work keeps piling up", "What feels heaviest"):
        assert text not in dump, (action, text)


@pytest.fixture
def user_data(enduser, other_enduser, clinician):
    """Two sessions of ``enduser`` (one rated) with clinician work on them, the user's
    preferences and a workspace exemplar made from their message; one session of someone else."""
    first = _session(enduser, rating_stars=4)
    ChatSession.objects.filter(pk=first.pk).update(
        rating_comment="Helpful, thanks", rated_at=timezone.now(), summary="We talked about work."
    )
    second = _session(enduser, status=ChatSession.Status.OPEN)
    ChatPreferences.objects.create(user=enduser, session_length="short", tone="warm")
    user_message = first.messages.filter(role="user").first()
    reply = first.messages.filter(role="assistant").first()
    rating = SessionRating.objects.create(
        item=ReviewItemFactory(session=first),
        session=first,
        clinician=clinician,
        appropriateness="appropriate",
    )
    ReplyAssessment.objects.create(rating=rating, message=reply, flags=[], validated=True)
    SafetyLabel.objects.create(
        item=LabelItemFactory(message=user_message),
        clinician=clinician,
        risk_level="low",
        urgency="low",
    )
    exemplar = RiskExemplar.objects.create(
        text="write to [email] or call [phone]",
        risk_level="low",
        family="everyday_distress",
        source=RiskExemplar.Source.WORKSPACE,
        from_message=user_message,
    )
    shipped = RiskExemplar.objects.create(
        text="a shipped example", risk_level="low", family="everyday_distress", source="shipped"
    )
    others = _session(other_enduser)
    return {
        "sessions": [first, second],
        "exemplar": exemplar,
        "shipped": shipped,
        "others": others,
    }


# --- Download --------------------------------------------------------------------------------


def test_download_api_returns_my_sessions_messages_rating_and_preferences(enduser, user_data):
    response = client_for(enduser).get("/api/v1/me/data/")

    assert response.status_code == 200
    data = response.json()
    assert data["format"] == "ari-user-data/1"
    assert data["account"]["username"] == enduser.username
    assert data["preferences"]["session_length"] == "short"
    assert data["preferences"]["tone"] == "warm"
    ids = {s["id"] for s in data["sessions"]}
    assert ids == {str(s.public_id) for s in user_data["sessions"]}
    assert str(user_data["others"].public_id) not in ids
    rated = next(s for s in data["sessions"] if s["rating_stars"] == 4)
    assert rated["rating_comment"] == "Helpful, thanks"
    assert rated["summary"] == "We talked about work."
    assert [m["role"] for m in rated["messages"]] == ["user", "assistant", "user", "assistant"]
    assert rated["messages"][0]["text"] == PII_TEXT  # their own words, as written
    # Audited with counts, never the text.
    event = AuditEvent.objects.get(action="data.export")
    assert event.actor == enduser and event.object_id == str(enduser.pk)
    assert event.after == {"via": "api", "sessions": 2, "messages": 8}
    _assert_no_message_text("data.export")


def test_download_takes_the_same_queries_for_one_session_or_many(enduser):
    _session(enduser)
    with CaptureQueriesContext(connection) as one:
        user_data_export(user=enduser, via="api")
    for _ in range(4):
        _session(enduser)
    with CaptureQueriesContext(connection) as five:
        data = user_data_export(user=enduser, via="api")
    assert len(data["sessions"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_download_without_data_is_an_empty_document(enduser):
    data = client_for(enduser).get("/api/v1/me/data/").json()
    assert data["sessions"] == [] and data["preferences"] is None


@pytest.mark.parametrize("role", ["clinician", "admin_user"])
def test_only_end_users_have_data_endpoints(request, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/me/data/").status_code == 403
    erase = client.post("/api/v1/me/data/erase/", {"confirm": True}, format="json")
    assert erase.status_code == 403


def test_data_endpoints_refuse_anonymous(db):
    assert APIClient().get("/api/v1/me/data/").status_code in (401, 403)
    response = APIClient().post("/api/v1/me/data/erase/", {"confirm": True}, format="json")
    assert response.status_code in (401, 403)


# --- Erasure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"confirm": False}, {"confirm": "no"}])
def test_erase_needs_confirmation(enduser, user_data, body):
    response = client_for(enduser).post("/api/v1/me/data/erase/", body, format="json")

    assert response.status_code == 400
    assert "confirm" in response.json()["detail"]
    assert ChatSession.objects.filter(user=enduser).count() == 2
    assert not AuditEvent.objects.filter(action="data.erase").exists()


def test_erase_deletes_everything_of_mine_and_nothing_else(enduser, user_data):
    other_messages = Message.objects.filter(session=user_data["others"]).count()

    response = client_for(enduser).post("/api/v1/me/data/erase/", {"confirm": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "sessions_erased": 2,
        "messages_erased": 8,
        "sessions_kept": 0,
        "preferences_erased": True,
        "exemplars_erased": 1,
        # The session rating, its reply assessment and the safety label went with the messages.
        "clinician_labels_erased": 3,
    }
    assert not ChatSession.objects.filter(user=enduser).exists()
    assert not Message.objects.filter(text=PII_TEXT, session__user=enduser).exists()
    assert not ChatPreferences.objects.filter(user=enduser).exists()
    assert not SessionRating.objects.exists() and not SafetyLabel.objects.exists()
    assert not ReplyAssessment.objects.exists()
    assert not WorkItem.objects.filter(session__isnull=False, session__user=enduser).exists()
    assert not RiskExemplar.objects.filter(pk=user_data["exemplar"].pk).exists()
    # Someone else's data, shipped exemplars and the account itself stay.
    assert Message.objects.filter(session=user_data["others"]).count() == other_messages
    assert RiskExemplar.objects.filter(pk=user_data["shipped"].pk).exists()
    enduser.refresh_from_db()
    assert enduser.is_active
    # Audited: ids and counts, never text.
    event = AuditEvent.objects.get(action="data.erase")
    assert event.actor == enduser and event.object_id == str(enduser.pk)
    assert event.after["via"] == "api"
    assert sorted(event.after["session_ids"]) == sorted(s.pk for s in user_data["sessions"])
    assert event.after["deleted"]["conversations.Message"] == 8
    assert event.after["deleted"]["evaluation.SafetyLabel"] == 1
    _assert_no_message_text("data.erase")


def test_erase_keeps_a_session_with_an_open_escalation(enduser):
    followed_up = _session(enduser)
    ChatSession.objects.filter(pk=followed_up.pk).update(previous_summary="Last time: work.")
    EscalationFactory(session=followed_up)
    closed = _session(enduser)
    escalation = EscalationFactory(session=closed)
    Escalation.objects.filter(pk=escalation.pk).update(status=Escalation.Status.CLOSED)

    result = user_data_erase(user=enduser, via="api")

    assert (result.sessions_erased, result.sessions_kept) == (1, 1)
    assert list(ChatSession.objects.filter(user=enduser)) == [followed_up]
    followed_up.refresh_from_db()
    assert followed_up.previous_summary == ""  # a copy of an erased session's summary
    assert followed_up.messages.count() == 4
    event = AuditEvent.objects.get(action="data.erase")
    assert event.after["kept_session_ids"] == [followed_up.pk]
    assert event.after["session_ids"] == [closed.pk]


def test_erase_is_all_or_nothing(enduser, user_data, monkeypatch):
    def audit_down(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("conversations.services.privacy.audit_event_record", audit_down)
    with pytest.raises(RuntimeError):
        user_data_erase(user=enduser, via="api")

    assert ChatSession.objects.filter(user=enduser).count() == 2
    assert Message.objects.filter(session__user=enduser).count() == 8
    assert ChatPreferences.objects.filter(user=enduser).exists()
    assert RiskExemplar.objects.filter(pk=user_data["exemplar"].pk).exists()
    assert SafetyLabel.objects.count() == 1


def test_after_erasure_the_chat_starts_afresh(enduser, user_data):
    client = client_for(enduser)
    old = user_data["sessions"][1]
    client.post("/api/v1/me/data/erase/", {"confirm": True}, format="json")

    assert client.get(f"/api/v1/sessions/{old.public_id}/").status_code == 404
    assert client.get("/api/v1/sessions/").json()["results"] == []
    assert client.get("/api/v1/me/data/").json()["sessions"] == []


# --- Pages -----------------------------------------------------------------------------------


@pytest.fixture
def page_client(client, enduser):
    client.force_login(enduser)
    return client


def test_chat_pages_link_to_your_data(page_client, enduser):
    start = page_client.get("/chat/?new=1").content.decode()
    assert '<a href="/my-data/">Your data: download or erase it</a>' in start
    session = _session(enduser, status=ChatSession.Status.OPEN)
    transcript = page_client.get(f"/chat/{session.public_id}/").content.decode()
    assert ' · <a href="/my-data/">Your data</a></p>' in transcript
    nav = transcript.split('data-testid="nav"', 1)[1].split("</ul>", 1)[0]
    assert ">Your data<" in nav


def test_your_data_page_says_what_is_stored_and_offers_download_and_erase(page_client, user_data):
    page = page_client.get("/my-data/").content.decode()

    assert "2 sessions with 8 messages" in page
    assert "Your default session length and tone" in page
    assert 'href="/my-data/download/"' in page
    assert 'href="/my-data/erase/"' in page
    assert "<h1>Your data</h1>" in page


def test_page_download_is_a_json_file_of_my_data(page_client, enduser, user_data):
    response = page_client.get("/my-data/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="ari-my-data-')
    data = json.loads(response.content)
    assert len(data["sessions"]) == 2
    assert PII_TEXT in response.content.decode()
    assert AuditEvent.objects.get(action="data.export").after["via"] == "page"


def test_page_erase_asks_for_confirmation_first(page_client, enduser, user_data):
    confirm = page_client.get("/my-data/erase/")
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert 'type="checkbox" id="erase-confirm" name="confirm" value="yes" required' in page
    assert '<label for="erase-confirm">' in page

    unconfirmed = page_client.post("/my-data/erase/", {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert ChatSession.objects.filter(user=enduser).count() == 2

    done = page_client.post("/my-data/erase/", {"confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == "/my-data/"
    assert "Erased 2 session(s) and 8 message(s)." in done.content.decode()
    assert not ChatSession.objects.filter(user=enduser).exists()
    assert AuditEvent.objects.get(action="data.erase").after["via"] == "page"


def test_page_erase_tells_about_kept_sessions(page_client, enduser):
    EscalationFactory(session=_session(enduser))
    page = page_client.get("/my-data/").content.decode()
    assert "1 session with an open safety follow-up will be kept" in page

    done = page_client.post("/my-data/erase/", {"confirm": "yes"}, follow=True)
    assert "1 session(s) with an open safety follow-up are kept" in done.content.decode()


@pytest.mark.parametrize("url", ["/my-data/", "/my-data/download/", "/my-data/erase/"])
def test_your_data_pages_are_for_end_users_only(client, clinician, url):
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(clinician)
    assert client.get(url).status_code == 403


# --- Retention -------------------------------------------------------------------------------


def _age(session: ChatSession, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    ChatSession.objects.filter(pk=session.pk).update(created_at=then, ended_at=then)
    Message.objects.filter(session=session).update(created_at=then)


def test_retention_is_off_by_default(enduser, settings):
    assert settings.ARI_RETENTION_DAYS == 0
    _age(_session(enduser), 4000)

    assert sessions_retention_purge().as_dict()["enabled"] is False
    assert ChatSession.objects.count() == 1


def test_retention_purges_old_sessions_but_never_one_with_an_open_escalation(
    enduser, clinician, settings
):
    settings.ARI_RETENTION_DAYS = 30
    old = _session(enduser)
    _age(old, 40)
    SafetyLabel.objects.create(
        item=LabelItemFactory(message=old.messages.filter(role="user").first()),
        clinician=clinician,
        risk_level="low",
        urgency="low",
    )
    recent = _session(enduser)
    _age(recent, 10)
    old_but_active = _session(enduser)
    _age(old_but_active, 40)
    Message.objects.filter(pk=old_but_active.messages.last().pk).update(created_at=timezone.now())
    escalated = _session(enduser)
    EscalationFactory(session=escalated)
    _age(escalated, 400)
    closed = _session(enduser)
    Escalation.objects.filter(pk=EscalationFactory(session=closed).pk).update(status="closed")
    _age(closed, 400)

    result = sessions_retention_purge()

    assert result.as_dict() == {
        "enabled": True,
        "sessions": 2,
        "messages": 8,
        "held_open_escalation": 1,
        "batches": 1,
    }
    assert set(ChatSession.objects.values_list("pk", flat=True)) == {
        recent.pk,
        old_but_active.pk,
        escalated.pk,
    }
    assert not SafetyLabel.objects.exists()
    event = AuditEvent.objects.get(action="retention.purge")
    assert event.actor is None and event.actor_name == "system"
    assert event.after["retention_days"] == 30
    assert sorted(event.after["session_ids"]) == sorted([old.pk, closed.pk])
    assert event.after["messages"] == 8 and event.after["held_open_escalation"] == 1
    _assert_no_message_text("retention.purge")
    # A second run finds nothing and writes nothing.
    assert sessions_retention_purge().sessions == 0
    assert AuditEvent.objects.filter(action="retention.purge").count() == 1


def test_retention_purges_in_audited_batches(enduser, settings):
    settings.ARI_RETENTION_DAYS = 7
    for _ in range(3):
        _age(_session(enduser), 8)

    result = sessions_retention_purge(batch_size=2)

    assert (result.sessions, result.batches) == (3, 2)
    counts = [e.after["sessions"] for e in AuditEvent.objects.filter(action="retention.purge")]
    assert sorted(counts) == [1, 2]


def test_retention_task_runs_the_purge_and_is_scheduled(enduser, settings):
    from ari_review import settings as project_settings

    settings.ARI_RETENTION_DAYS = 1
    _age(_session(enduser), 2)

    outcome = sessions_retention_purge_task.apply().get()

    assert outcome["sessions"] == 1
    assert not ChatSession.objects.exists()
    entry = project_settings.CELERY_BEAT_SCHEDULE["conversations-retention-purge"]
    assert entry["task"] == sessions_retention_purge_task.name
    route = project_settings.CELERY_TASK_ROUTES[sessions_retention_purge_task.name]
    assert route == {"queue": "default"}


# --- Staff see masked text; revealing it takes a reason --------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_django_admin_shows_masked_text(admin_client, enduser):
    session = _session(enduser)
    ChatSession.objects.filter(pk=session.pk).update(rating_comment=f"mail me at {EMAIL}")
    message = session.messages.filter(role="user").first()

    pages = [
        admin_client.get(f"/admin/conversations/chatsession/{session.pk}/change/"),
        admin_client.get(f"/admin/conversations/message/{message.pk}/change/"),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert EMAIL not in html and "123-4567" not in html and "Jane" not in html
        assert "[email]" in html and "[phone]" in html
    assert f"/admin/conversations/chatsession/{session.pk}/reveal/" in pages[0].content.decode()


@pytest.mark.parametrize(
    ("reason", "error"),
    [("", "This field is required"), ("why", "at least 5"), ("x" * 301, "at most 300")],
)
def test_admin_reveal_needs_a_short_reason(admin_client, enduser, reason, error):
    session = _session(enduser)
    url = f"/admin/conversations/chatsession/{session.pk}/reveal/"

    form = admin_client.get(url)
    assert form.status_code == 200 and EMAIL not in form.content.decode()
    response = admin_client.post(url, {"reason": reason})

    assert response.status_code == 400
    html = response.content.decode()
    assert error in html and EMAIL not in html
    assert not AuditEvent.objects.filter(action="transcript.reveal").exists()


def test_admin_reveal_with_a_reason_shows_the_text_and_is_audited(
    admin_client, admin_user, enduser
):
    session = _session(enduser)
    url = f"/admin/conversations/chatsession/{session.pk}/reveal/"

    response = admin_client.post(url, {"reason": "Escalation follow-up: need the callback number"})

    assert response.status_code == 200
    html = response.content.decode()
    assert EMAIL in html and "555) 123-4567" in html
    event = AuditEvent.objects.get(action="transcript.reveal")
    assert event.actor == admin_user
    assert (event.object_type, event.object_id) == ("conversations.chatsession", str(session.pk))
    assert event.after == {
        "session_id": session.pk,
        "reason": "Escalation follow-up: need the callback number",
        "messages": 4,
    }
    _assert_no_message_text("transcript.reveal")


def test_reveal_api_needs_a_reason_and_a_staff_role(enduser, clinician, admin_user):
    session = _session(enduser)
    url = f"/api/v1/transcripts/{session.pk}/reveal/"

    assert client_for(enduser).post(url, {"reason": "curious"}, format="json").status_code == 403
    missing = client_for(admin_user).post(url, {}, format="json")
    assert missing.status_code == 400 and missing.json()["detail"].startswith("reason:")
    too_long = client_for(admin_user).post(url, {"reason": "x" * 301}, format="json")
    assert too_long.status_code == 400
    assert (
        client_for(admin_user)
        .post("/api/v1/transcripts/999999/reveal/", {"reason": "checking a report"}, format="json")
        .status_code
        == 404
    )
    assert not AuditEvent.objects.filter(action="transcript.reveal").exists()

    response = client_for(clinician).post(
        url, {"reason": "Safety review of escalation"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["session_id"] == session.pk
    assert body["messages"][0]["text"] == PII_TEXT
    event = AuditEvent.objects.get(action="transcript.reveal")
    assert event.actor == clinician and event.after["reason"] == "Safety review of escalation"


def test_labelling_queue_shows_masked_text(client, clinician, enduser):
    session = _session(enduser)
    LabelItemFactory(message=session.messages.filter(role="user").first())
    client.force_login(clinician)

    html = client.get("/labels/safety/").content.decode()

    assert "[email]" in html
    assert EMAIL not in html
