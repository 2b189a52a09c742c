"""Response headers (issue 15 §4): a Content-Security-Policy whose scripts need this site or the
request's nonce (never 'unsafe-inline'), Permissions-Policy, Referrer-Policy, and
``Cache-Control: no-store`` on every page and API response that carries what people wrote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from conversations.services import chat_turn_run, session_create
from evaluation.models import WorkItem
from evaluation.services.starter import starter_content_load
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def chat(enduser):
    starter_content_load()
    session = session_create(user=enduser, session_type="check_in")
    chat_turn_run(session=session, text="My week at work was long.", idempotency_key="")
    return session


@pytest.fixture
def pages(enduser, clinician, admin_user) -> dict[str, Client]:
    clients = {}
    for role, user in (("enduser", enduser), ("clinician", clinician), ("admin", admin_user)):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def test_transcript_page_scripts_carry_the_nonce_of_the_policy(pages, chat):
    response = pages["enduser"].get(f"/chat/{chat.public_id}/")
    assert response.status_code == 200
    policy = directives(response)
    nonces = [v for v in policy["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    nonce = nonces[0][len("'nonce-") : -1]
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts, "the chat page loads chat.js"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag and "src=" in tag
    # A fresh nonce per response.
    again = directives(pages["enduser"].get(f"/chat/{chat.public_id}/"))["script-src"]
    assert nonces[0] not in again


def test_the_policy_locks_everything_else_down(pages, chat):
    policy = directives(pages["enduser"].get(f"/chat/{chat.public_id}/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_only_the_dashboards_and_api_docs_allow_inline_styles(pages):
    assert "'unsafe-inline'" in directives(pages["clinician"].get("/dashboards/"))["style-src"]
    assert "'unsafe-inline'" in directives(pages["admin"].get("/api/docs/"))["style-src"]
    for role, path in (("clinician", "/review/"), ("admin", "/models/"), ("enduser", "/chat/")):
        policy = directives(pages[role].get(path))
        assert policy["style-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in policy["script-src"], path


def test_no_template_has_an_inline_script_or_event_handler():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
            assert "nonce=" in tag or "src=" not in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template
        assert not re.search(r"\sstyle\s*=", text), template


def test_the_api_docs_start_up_script_is_a_file(pages):
    page = pages["admin"].get("/api/docs/").content.decode()
    assert re.search(r'<script src="[^"]*\?script=[^"]*">', page)
    assert "<script>" not in page
    script = pages["admin"].get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize("path", ["/chat/", "/api/v1/ping", "/accounts/login/"])
def test_permissions_and_referrer_policies_on_pages_and_api(pages, path):
    response = pages["enduser"].get(path)
    assert response["Permissions-Policy"] == django_settings.ARI_PERMISSIONS_POLICY
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_the_policies_are_settings(settings, pages):
    settings.ARI_PERMISSIONS_POLICY = "camera=()"
    settings.SECURE_REFERRER_POLICY = "no-referrer"
    response = pages["enduser"].get("/chat/")
    assert response["Permissions-Policy"] == "camera=()"
    assert response["Referrer-Policy"] == "no-referrer"


def no_store(response, status: int = 200) -> bool:
    assert response.status_code == status, response.status_code
    return "no-store" in response.get("Cache-Control", "")


def test_transcript_pages_are_not_stored(pages, chat):
    assert no_store(pages["enduser"].get(f"/chat/{chat.public_id}/"))
    assert no_store(pages["enduser"].get("/sessions/"))
    item = factories.ReviewItemFactory(session=chat)
    assert no_store(pages["clinician"].get(f"/review/items/{item.pk}/"))
    label = factories.LabelItemFactory(kind=WorkItem.Kind.SAFETY)
    assert no_store(pages["clinician"].get(f"/labels/safety/items/{label.pk}/"))
    assert no_store(pages["clinician"].get("/dialogues/"))


def test_message_apis_are_not_stored(enduser, clinician, chat):
    api = client_for(enduser)
    assert no_store(api.get(f"/api/v1/sessions/{chat.public_id}/"))
    assert no_store(api.get("/api/v1/sessions/"))
    sent = api.post(
        f"/api/v1/sessions/{chat.public_id}/messages/", {"text": "Still here."}, format="json"
    )
    assert no_store(sent, 201)
    item = factories.ReviewItemFactory(session=chat)
    assert no_store(client_for(clinician).get(f"/api/v1/work-items/{item.pk}/"))
    assert no_store(client_for(clinician).get("/api/v1/queues/review/items/"))


def test_errors_are_not_stored_either(pages):
    missing = "/api/v1/sessions/00000000-0000-0000-0000-000000000000/"
    assert no_store(pages["enduser"].get(missing), 404)


def test_a_view_that_chose_its_own_caching_keeps_it(pages):
    response = pages["clinician"].get("/dashboards/plotly.min.js")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=86400"


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """Import the production settings in a fresh process with ``env``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ARI_", "SECURE_", "DJANGO_", "DEBUG"))
    }
    base.update(
        DJANGO_SETTINGS_MODULE="ari_review.settings",
        DEBUG="0",
        SECRET_KEY="k" * 60,
        ALLOWED_HOSTS="example.org",
        **env,
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(hasattr(s, 'CONTENT_SECURITY_POLICY'), "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY['DIRECTIVES']['report-uri'] "
        "if hasattr(s, 'CONTENT_SECURITY_POLICY_REPORT_ONLY') else None)"
    )
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=base, capture_output=True, text=True
    )


def test_the_policy_can_be_tried_in_report_only_mode():
    enforced = settings_with()
    assert enforced.stdout.split() == ["True", "None"], enforced.stderr
    trial = settings_with(ARI_CSP_REPORT_ONLY="1", ARI_CSP_REPORT_URI="/csp-reports/")
    assert trial.stdout.split() == ["False", "['/csp-reports/']"], trial.stderr


def test_a_malformed_size_limit_stops_start_up_naming_it():
    result = settings_with(ARI_MAX_REQUEST_BYTES="1MB")
    assert result.returncode != 0
    assert "ARI_MAX_REQUEST_BYTES must be an integer" in result.stderr
