"""The edges of the chat input: a message over the limit is refused with the limit and its
length (never cut short), control characters are a clear 400 (never a 500 from PostgreSQL),
through the API and the no-JavaScript form alike; the form keeps the draft; the latest reply's
suggested replies are buttons on the page."""

from __future__ import annotations

import json
import re
import unicodedata
from html import unescape

import pytest
from django.test import Client

from ari_review.api.errors import ApplicationError
from conversations.models import ChatSession, Message
from conversations.services import session_create, session_end
from conversations.services.message_input import MAX_MESSAGE_CHARS, message_text_clean
from tests.conftest import client_for

OVER_LIMIT = "x" * 4500
CONTROL_TEXTS = [
    pytest.param("hello\x00world", id="nul"),
    pytest.param("\x00", id="only-nul"),
    pytest.param("bell \x07", id="bel"),
    pytest.param("\x1b[31mred\x1b[0m", id="escape"),
    pytest.param("delete\x7f", id="del"),
    pytest.param("next line\x85", id="nel-trailing"),
    pytest.param("form feed at the end\x0c", id="form-feed-trailing"),
    pytest.param("\x0c\x0b", id="only-whitespace-controls"),
]
ALLOWED_WHITESPACE = "Line one\n\tindented line two\r\nline three"


def messages_url(session: ChatSession) -> str:
    return f"/api/v1/sessions/{session.public_id}/messages/"


@pytest.fixture
def api(enduser):
    return client_for(enduser)


@pytest.fixture
def browser(enduser):
    client = Client()
    client.force_login(enduser)
    return client


def textarea_value(page: str) -> str:
    match = re.search(r'<textarea id="chat-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "the chat textarea is on the page"
    return unescape(match.group(1))


# --- The service: every path goes through message_text_clean ----------------------------------


@pytest.mark.parametrize(
    "char",
    [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"],
    ids=lambda char: f"U+{ord(char):04X}",
)
def test_every_control_character_but_tab_newline_and_return_is_refused(char):
    text = f"before {char} after"
    if char in "\t\n\r":
        assert message_text_clean(text) == text
        return
    with pytest.raises(ApplicationError, match="contains control characters"):
        message_text_clean(text)


def test_over_the_limit_is_refused_naming_the_limit_and_the_length():
    with pytest.raises(ApplicationError) as error:
        message_text_clean(OVER_LIMIT)
    assert "at most 4,000 characters" in error.value.message
    assert "4,500" in error.value.message
    assert error.value.status_code == 400


def test_the_limit_counts_characters_after_trimming_not_bytes():
    assert message_text_clean("  " + "é" * MAX_MESSAGE_CHARS + "\n") == "é" * MAX_MESSAGE_CHARS
    with pytest.raises(ApplicationError, match="this one is 4,001"):
        message_text_clean("é" * (MAX_MESSAGE_CHARS + 1))


def test_lone_surrogates_are_refused():
    with pytest.raises(ApplicationError, match="invalid characters"):
        message_text_clean("broken \ud800 text")


# --- The API ------------------------------------------------------------------------------------


def test_api_refuses_a_message_over_the_limit_and_stores_nothing(api, session):
    response = api.post(messages_url(session), {"text": OVER_LIMIT}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "at most 4,000 characters" in body["detail"]
    assert "4,500" in body["detail"]
    # The field's own message, for clients that show it without the "text: " prefix.
    assert body["errors"]["text"] == [
        "Message text must be at most 4,000 characters; this one is 4,500. Please shorten it or "
        "split it into two messages."
    ]
    assert not Message.objects.exists()


def test_api_accepts_exactly_4000_characters_uncut(api, chat_ready, session):
    text = "a" * MAX_MESSAGE_CHARS
    response = api.post(messages_url(session), {"text": text}, format="json")
    assert response.status_code == 201
    assert response.json()["user_message"]["text"] == text
    assert Message.objects.get(session=session, role="user").text == text


@pytest.mark.parametrize("text", CONTROL_TEXTS)
def test_api_refuses_control_characters_with_a_400_and_stores_nothing(api, session, text):
    response = api.post(messages_url(session), {"text": text}, format="json")
    assert response.status_code == 400
    assert "contains control characters" in response.json()["detail"]
    assert not Message.objects.exists()


def test_api_refuses_nul_sent_as_a_json_escape(api, session):
    body = json.dumps({"text": "hello\u0000world"})
    assert "\\u0000" in body
    response = api.generic("POST", messages_url(session), body, "application/json")
    assert response.status_code == 400
    assert "contains control characters" in response.json()["detail"]
    assert not Message.objects.exists()


def test_api_refuses_a_lone_surrogate_with_a_400(api, session):
    response = api.generic(
        "POST", messages_url(session), '{"text": "hi \\ud800"}', "application/json"
    )
    assert response.status_code == 400
    assert "invalid characters" in response.json()["detail"]
    assert not Message.objects.exists()


def test_api_over_the_limit_with_a_nul_is_still_a_400(api, session):
    response = api.post(messages_url(session), {"text": OVER_LIMIT + "\x00"}, format="json")
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_api_keeps_tabs_newlines_and_carriage_returns(api, chat_ready, session):
    response = api.post(messages_url(session), {"text": ALLOWED_WHITESPACE}, format="json")
    assert response.status_code == 201
    assert Message.objects.get(session=session, role="user").text == ALLOWED_WHITESPACE


def test_api_still_refuses_a_blank_message(api, session):
    response = api.post(messages_url(session), {"text": " \t\n "}, format="json")
    assert response.status_code == 400
    assert "must not be empty" in response.json()["detail"]


# --- The page and its no-JavaScript form --------------------------------------------------------


def test_page_textarea_has_no_maxlength_that_would_cut_a_paste(browser, session):
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    textarea = re.search(r'<textarea id="chat-text"[^>]*>', page).group(0)
    assert "maxlength" not in textarea
    assert f'data-max-chars="{MAX_MESSAGE_CHARS}"' in textarea
    assert 'id="chat-limit"' in page and 'aria-live="polite"' in page


def test_form_over_the_limit_re_renders_with_the_error_and_the_whole_draft(browser, session):
    response = browser.post(
        f"/chat/{session.public_id}/send/", {"text": OVER_LIMIT, "idempotency_key": "k1"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 4,000 characters; this one is 4,500" in page
    assert textarea_value(page) == OVER_LIMIT  # the draft is kept, all of it
    assert not Message.objects.exists()


def test_form_with_a_nul_is_a_400_with_the_draft_kept(browser, session):
    draft = "I typed this\x00 by accident"
    response = browser.post(f"/chat/{session.public_id}/send/", {"text": draft})
    assert response.status_code == 400
    page = response.content.decode()
    assert "contains control characters" in page
    assert "I typed this" in textarea_value(page)
    assert not Message.objects.exists()


def test_form_line_breaks_count_once_as_on_the_page(browser, chat_ready, session):
    # Browsers post a textarea's line breaks as CRLF; the page counts them as one character.
    lines = ["x" * 7] * 500
    posted = "\r\n".join(lines)  # 4,499 characters as posted, 3,999 as typed
    response = browser.post(f"/chat/{session.public_id}/send/", {"text": posted})
    assert response.status_code == 302
    assert Message.objects.get(session=session, role="user").text == "\n".join(lines)


# --- Suggested replies on the server-rendered page ----------------------------------------------

needs_field = pytest.mark.skipif(
    not any(f.name == "suggested_replies" for f in Message._meta.get_fields()),
    reason="Message.suggested_replies has not landed yet",
)
SUGGESTIONS = ["I'm safe right now", "I'm not safe", "Show me the resources again"]


def store_turn(session, *, suggested_replies=None):
    asked = Message.objects.create(session=session, role="user", text="hello")
    reply = Message.objects.create(
        session=session, role="assistant", text="Are you safe?", reply_to=asked
    )
    if suggested_replies is not None:
        reply.suggested_replies = suggested_replies
        reply.save(update_fields=["suggested_replies"])
    return reply


def suggestion_buttons(page: str) -> list[str]:
    form = re.search(r'<form id="suggested-replies"[^>]*>(.*?)</form>', page, re.S)
    assert form, "the suggested-replies form is on an open session's page"
    return [unescape(v) for v in re.findall(r'<button type="submit"[^>]*value="([^"]*)"', form[1])]


@needs_field
def test_page_shows_the_latest_replys_suggestions_as_buttons_in_a_group(browser, session):
    store_turn(session, suggested_replies=SUGGESTIONS)
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert suggestion_buttons(page) == SUGGESTIONS
    assert 'role="group" aria-label="Suggested replies"' in page
    opening = re.search(r'<form id="suggested-replies"[^>]*>', page, re.S).group(0)
    assert "hidden" not in opening


@needs_field
def test_only_the_latest_reply_has_suggestions(browser, session):
    store_turn(session, suggested_replies=SUGGESTIONS)
    store_turn(session, suggested_replies=[])
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert suggestion_buttons(page) == []
    opening = re.search(r'<form id="suggested-replies"[^>]*>', page, re.S).group(0)
    assert "hidden" in opening


@needs_field
def test_an_ended_session_shows_no_suggestions(browser, session):
    store_turn(session, suggested_replies=SUGGESTIONS)
    session_end(session=session)
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert 'id="suggested-replies"' not in page


def test_page_without_suggestions_hides_the_empty_group(browser, enduser):
    session = session_create(user=enduser, session_type="check_in")
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    assert suggestion_buttons(page) == []


@needs_field
def test_a_suggestion_posted_without_javascript_is_sent_as_the_message(
    browser, chat_ready, session
):
    store_turn(session, suggested_replies=SUGGESTIONS)
    page = browser.get(f"/chat/{session.public_id}/").content.decode()
    key = re.search(
        r'<form id="suggested-replies".*?name="idempotency_key" value="([^"]+)"', page, re.S
    )[1]
    response = browser.post(
        f"/chat/{session.public_id}/send/", {"text": SUGGESTIONS[2], "idempotency_key": key}
    )
    assert response.status_code == 302
    sent = Message.objects.filter(session=session, role="user").order_by("-id").first()
    assert sent.text == SUGGESTIONS[2]
