"""The request's edges (issue 15 §2): control characters anywhere are a 400 naming the field,
through JSON and forms, pages and API; bodies over the limit are a 413 before they are read;
JSON nested too deeply is a 400, never a 500; imports are capped and checked by the same rule.
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from ari_review.models import AuditEvent
from ari_review.validation import data_problem, text_problem
from conversations.models import ChatSession, Message
from conversations.services import session_create, session_end
from evaluation.models import SeedDialogue
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DIALOGUE = [
    {"role": "user", "content": "Everything at work feels like too much."},
    {"role": "assistant", "content": "That sounds exhausting. What weighs most?"},
]


@pytest.fixture
def session(enduser) -> ChatSession:
    return session_create(user=enduser, session_type="check_in")


@pytest.fixture
def page_client(enduser) -> Client:
    client = Client()
    client.force_login(enduser)
    return client


def assert_names(response, field: str, wording: str = "contains control characters") -> dict:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["detail"].startswith(f"{field}: ")
    assert wording in body["detail"]
    assert list(body["errors"]) == [field]
    return body


# --- The one rule --------------------------------------------------------------------------------


def test_the_rule_refuses_every_control_character_but_tab_newline_and_return():
    refused = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"]
    assert all(text_problem(f"a{char}b") for char in refused)
    assert text_problem("Line one\n\tline two\r\n") is None
    assert "unpaired surrogates" in text_problem("hi \ud800")


def test_the_walk_names_the_first_bad_field_in_document_order():
    data = {"title": "ok", "messages": [{"content": "fine"}, {"content": "bad\x00", "x": "\x1b"}]}
    problem = data_problem(data, max_depth=5)
    assert problem.field == "messages.1.content"
    assert data_problem({"ok": ["x", {"y": "z"}]}, max_depth=3) is None
    assert data_problem({"a\x00": 1}, max_depth=3).message.startswith("A field name")
    deep = data_problem({"a": [[["x"]]]}, max_depth=3)
    assert deep.field == "a.0.0" and "more than 3 levels" in deep.message


# --- JSON bodies: the API's parser ---------------------------------------------------------------


def test_nul_in_a_chat_message_is_a_400_naming_text(enduser, session):
    response = client_for(enduser).post(
        f"/api/v1/sessions/{session.public_id}/messages/", {"text": "hi\x00"}, format="json"
    )
    assert_names(response, "text")
    assert not Message.objects.exists()


def test_nul_deep_in_a_dialogue_is_a_400_naming_the_path(clinician):
    messages = [DIALOGUE[0], {"role": "assistant", "content": "Still \x00 here"}]
    response = client_for(clinician).post(
        "/api/v1/dialogues/create/", {"title": "t", "messages": messages}, format="json"
    )
    assert_names(response, "messages.1.content")
    assert not SeedDialogue.objects.exists()


def test_a_control_character_in_a_key_is_a_400(clinician):
    dialogue = factories.SeedDialogueFactory(state=SeedDialogue.State.IN_REVIEW)
    response = client_for(clinician).post(
        f"/api/v1/dialogues/{dialogue.pk}/approve/",
        {"checklist": {"safe\x00": True}},
        format="json",
    )
    assert_names(response, "checklist")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x0c"])
def test_escalation_note_with_a_control_character_is_a_400(clinician, char):
    escalation = factories.EscalationFactory()
    response = client_for(clinician).post(
        f"/api/v1/escalations/{escalation.pk}/close/", {"note": f"called {char}back"}, format="json"
    )
    assert_names(response, "note")
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_a_lone_surrogate_is_a_400(clinician):
    response = client_for(clinician).generic(
        "POST",
        "/api/v1/dialogues/create/",
        '{"title": "x \\ud800", "messages": []}',
        content_type="application/json",
    )
    assert_names(response, "title", wording="invalid characters")


def test_tabs_newlines_and_returns_are_ordinary_text(clinician):
    messages = [{"role": "user", "content": "Line one\n\tline two\r\n"}, DIALOGUE[1]]
    response = client_for(clinician).post(
        "/api/v1/dialogues/create/", {"title": "ok", "messages": messages}, format="json"
    )
    assert response.status_code == 201, response.content


# --- Query strings, forms and uploads: the middleware --------------------------------------------


@pytest.mark.parametrize(
    ("role", "url", "field"),
    [
        ("clinician", "/api/v1/dialogues/?q=work%00", "q"),
        ("admin", "/api/v1/audit-events/?actor=%1b", "actor"),
        ("enduser", "/api/v1/crisis-resources/?locale=U%00S", "locale"),
        ("clinician", "/api/v1/metrics/?name=x%7f", "name"),
    ],
)
def test_a_query_parameter_with_a_control_character_is_a_400(role_users, role, url, field):
    assert_names(client_for(role_users[role]).get(url), field)


def test_a_form_encoded_api_body_is_checked_too(enduser, session):
    session_end(session=session)
    response = client_for(enduser).post(
        f"/api/v1/sessions/{session.public_id}/rating/", {"stars": "4", "comment": "good\x00"}
    )
    assert_names(response, "comment")
    session.refresh_from_db()
    assert session.rating_stars is None


def test_a_page_form_field_is_a_400_naming_it(page_client, session):
    session_end(session=session)
    response = page_client.post(
        f"/chat/{session.public_id}/rate/", {"stars": "4", "comment": "thanks\x1b[31m"}
    )
    assert response.status_code == 400
    assert response.content.decode().startswith("comment: This field contains control")
    session.refresh_from_db()
    assert session.rating_stars is None


def test_the_chat_form_still_keeps_the_draft_but_other_fields_are_checked(page_client, session):
    url = f"/chat/{session.public_id}/send/"
    response = page_client.post(url, {"text": "typed\x00 by accident"})
    assert response.status_code == 400 and "chat-text" in response.content.decode()
    response = page_client.post(url, {"text": "hello", "idempotency_key": "k\x00"})
    assert response.status_code == 400
    assert response.content.decode().startswith("idempotency_key: ")
    assert not Message.objects.exists()


def test_a_put_form_is_checked_too(enduser):
    response = client_for(enduser).put(
        "/api/v1/preferences/",
        "tone=warm%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert_names(response, "tone")


def test_a_path_with_a_control_character_is_a_400(clinician):
    response = client_for(clinician).get("/api/v1/queues/rev%00iew/items/")
    assert_names(response, "path")


# --- Sizes ---------------------------------------------------------------------------------------


def test_a_body_over_the_default_limit_is_a_413_before_anything_runs(clinician):
    big = "x" * (1024 * 1024)
    response = client_for(clinician).post(
        "/api/v1/dialogues/create/", {"title": big, "messages": DIALOGUE}, format="json"
    )
    assert response.status_code == 413
    assert "at most 1,048,576 bytes" in response.json()["detail"]
    assert not SeedDialogue.objects.exists()


def test_the_request_limit_is_a_setting(settings, clinician):
    settings.ARI_MAX_REQUEST_BYTES = 2000
    api = client_for(clinician)
    small = {"title": "x" * 100, "messages": DIALOGUE}
    assert api.post("/api/v1/dialogues/create/", small, format="json").status_code == 201
    large = {"title": "x" * 2000, "messages": DIALOGUE}
    assert api.post("/api/v1/dialogues/create/", large, format="json").status_code == 413


def test_a_page_form_over_the_limit_is_a_413(settings, page_client, session):
    settings.ARI_MAX_REQUEST_BYTES = 2000
    response = page_client.post(f"/chat/{session.public_id}/send/", {"text": "x" * 3000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert not Message.objects.exists()


def test_uploads_have_their_own_cap(settings, clinician):
    settings.ARI_MAX_REQUEST_BYTES = 2000
    settings.ARI_MAX_UPLOAD_BYTES = 8000
    api = client_for(clinician)

    def upload(size: int):
        records = [{"title": "p" * size, "messages": DIALOGUE}]
        handle = io.BytesIO(json.dumps(records).encode())
        handle.name = "seed.json"
        return api.post(
            "/api/v1/dialogues/import/", {"format": "dialogues", "file": handle}, format="multipart"
        )

    # Over the body limit but under the upload cap: imported.
    accepted = upload(4000)
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["created"] == 1
    refused = upload(9000)
    assert refused.status_code == 413
    assert "An upload may be at most 8,000 bytes" in refused.json()["detail"]
    assert SeedDialogue.objects.count() == 1


# --- Nesting -------------------------------------------------------------------------------------


def test_json_nested_beyond_the_limit_is_a_400(clinician):
    nested = {"title": "t", "messages": DIALOGUE, "tags": [[[[["x"]]]]]}
    for _ in range(20):
        nested = {"tags": [nested]}
    response = client_for(clinician).post("/api/v1/dialogues/create/", nested, format="json")
    assert response.status_code == 400
    assert "nested more than 20 levels" in response.json()["detail"]


def test_json_deep_enough_to_exhaust_the_parser_is_a_400_not_a_500(enduser, session):
    body = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client_for(enduser).generic(
        "POST", f"/api/v1/sessions/{session.public_id}/messages/", body, "application/json"
    )
    assert response.status_code == 400
    assert "nested more than" in response.json()["detail"]


# --- Imports: the same rule for the files' contents ----------------------------------------------


def _import(api, name: str, content: bytes, fmt: str = "dialogues"):
    handle = io.BytesIO(content)
    handle.name = name
    return api.post(
        "/api/v1/dialogues/import/", {"format": fmt, "file": handle}, format="multipart"
    )


def test_an_import_with_an_escaped_nul_names_the_record_and_field(clinician):
    records = [{"messages": DIALOGUE}, {"messages": [{"role": "user", "content": "a\u0000b"}]}]
    response = _import(client_for(clinician), "seed.json", json.dumps(records).encode())
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "dialogues, 1.messages.0.content" in detail and "control characters" in detail
    assert not SeedDialogue.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="import.").exists()


def test_an_import_with_a_raw_control_character_names_the_line(clinician):
    csv_text = "questionID,questionTitle,questionText,topic,answerText\n1,t,q\x1b,x,a\n"
    response = _import(client_for(clinician), "counsel.csv", csv_text.encode(), "counsel_chat")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("line 2: The text contains control characters")


def test_an_import_nested_too_deeply_is_a_400(clinician):
    deep = "[" * 50_000 + "]" * 50_000
    response = _import(client_for(clinician), "deep.json", deep.encode())
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
