"""The chat pages work without JavaScript (plain form posts), for end users only."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from conversations.models import ChatPreferences, ChatSession, Message
from conversations.services import session_create

HIGH_RISK = "I want to end my life tonight"


@pytest.fixture
def browser(enduser):
    client = Client()
    client.force_login(enduser)
    return client


def start(browser, session_type="gentle_deep") -> ChatSession:
    response = browser.post("/chat/start/", {"session_type": session_type})
    assert response.status_code == 302
    return ChatSession.objects.latest("created_at")


@pytest.mark.parametrize("url", ["/chat/", "/sessions/"])
def test_anonymous_is_sent_to_login(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/chat/", "/sessions/"])
def test_clinicians_cannot_open_the_chat(clinician, url):
    client = Client()
    client.force_login(clinician)
    assert client.get(url).status_code == 403


def test_chat_page_offers_the_three_session_types(browser, chat_ready):
    page = browser.get("/chat/").content.decode()
    for value in ("check_in", "gentle_deep", "micro_practice"):
        assert f'value="{value}"' in page
    assert "Start session" in page


def test_start_then_chat_without_javascript(browser, chat_ready):
    session = start(browser)
    assert browser.get("/chat/")["Location"] == f"/chat/{session.public_id}/"

    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert 'role="log"' in page and 'aria-live="polite"' in page
    assert '<label for="chat-text">' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)

    response = browser.post(
        f"/chat/{session.public_id}/send/",
        {
            "text": "Hi Ari, I had a calm walk today.",
            "idempotency_key": key,
        },
    )
    reply = Message.objects.get(role="assistant")
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{session.public_id}/#m-{reply.pk}"

    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert "I had a calm walk today." in page
    assert f'id="m-{reply.pk}"' in page
    assert 'data-testid="crisis-panel" hidden' in page  # nothing alarming yet


def test_double_submitted_form_runs_one_turn(browser, chat_ready):
    session = start(browser)
    for _ in range(2):
        browser.post(
            f"/chat/{session.public_id}/send/", {"text": "hello", "idempotency_key": "form-key"}
        )
    assert Message.objects.filter(session=session).count() == 2


def test_emergency_reply_shows_the_resources_prominently(browser, chat_ready):
    session = start(browser)
    browser.post(f"/chat/{session.public_id}/send/", {"text": HIGH_RISK})

    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    panel = re.search(r'<section id="crisis-panel"[^>]*>', page).group(0)
    assert "hidden" not in panel
    assert "Call or text 988" in page and "Text HOME to 741741" in page
    assert 'href="tel:988"' in page
    assert 'data-emergency="true"' in page


def test_empty_message_shows_an_error_and_stores_nothing(browser, chat_ready):
    session = start(browser)
    response = browser.post(f"/chat/{session.public_id}/send/", {"text": "   "})
    assert response.status_code == 400
    assert "must not be empty" in response.content.decode()
    assert not Message.objects.exists()


def test_end_and_rate_a_session(browser, chat_ready):
    session = start(browser, "check_in")
    browser.post(f"/chat/{session.public_id}/send/", {"text": "Stressed. Work is a lot."})
    browser.post(f"/chat/{session.public_id}/end/")

    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert "This session has ended" in page
    assert 'id="chat-form"' not in page
    session.refresh_from_db()
    assert session.summary.startswith("We talked about work")  # sentences, not keywords
    assert session.summary in page  # the stored summary, shown to its author

    browser.post(f"/chat/{session.public_id}/rate/", {"stars": "5", "comment": "Thanks"})
    session.refresh_from_db()
    assert session.rating_stars == 5 and session.rating_comment == "Thanks"

    # The user corrects the summary, then deletes it; the next session gets what is stored.
    browser.post(f"/chat/{session.public_id}/summary/", {"summary": "  Work was a lot.  "})
    session.refresh_from_db()
    assert session.summary == "Work was a lot."
    browser.post(f"/chat/{session.public_id}/summary/", {"summary": "x", "action": "delete"})
    session.refresh_from_db()
    assert session.summary == ""
    assert "No summary is kept" in browser.get(f"/chat/{session.public_id}/").content.decode()


def test_someone_elses_session_page_is_not_found(browser, chat_ready, other_enduser):
    theirs = session_create(user=other_enduser, session_type="check_in")
    assert browser.get(f"/chat/{theirs.public_id}/").status_code == 404
    assert browser.post(f"/chat/{theirs.public_id}/send/", {"text": "hi"}).status_code == 404
    assert not Message.objects.exists()


def test_session_list_shows_my_sessions(browser, chat_ready, other_enduser):
    mine = start(browser, "micro_practice")
    session_create(user=other_enduser, session_type="check_in")
    page = browser.get("/sessions/").content.decode()
    assert f"/chat/{mine.public_id}/" in page
    assert page.count("/chat/") - page.count("/chat/?new=1") - page.count('href="/chat/"') == 1


def test_preferences_form_saves_defaults_and_the_open_session(browser, chat_ready, enduser):
    session = start(browser)
    browser.post(
        "/chat/preferences/",
        {
            "session_length": "long",
            "tone": "direct",
            "session_id": str(session.public_id),
            "next": f"/chat/{session.public_id}/",
        },
    )
    session.refresh_from_db()
    assert session.preferences == {"session_length": "long", "tone": "direct"}
    assert ChatPreferences.objects.get(user=enduser).as_dict() == session.preferences
