"""Headless Chromium under the Content-Security-Policy (issue 15 §4): the pages of every role,
the dashboards (plotly.js), the Django admin and the API docs (Swagger UI) load and work with
no CSP violation reported by the browser."""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client

from conversations.services import session_create
from evaluation.models import WorkItem
from tests import factories
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)",
    ),
]
# Every violation the page reports (the event fires for blocked scripts, styles, eval...).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()
        # ORM calls made while Playwright's loop runs use their own connection: close it here,
        # inside the loop, so the test database can be dropped at the end of the run.
        from django.db import connections

        connections.close_all()


def visit_as(browser, live_server, user, paths: list[tuple[str, str]]) -> list[str]:
    """Open each path signed in as ``user``; wait for ``selector``; return the violations."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    found = []
    for path, selector in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        script_src = response.headers["content-security-policy"].split("script-src ")[1]
        assert script_src.startswith("'self'") and "unsafe" not in script_src.split(";")[0]
        page.wait_for_selector(selector)
        page.wait_for_load_state("networkidle")
        found += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
    context.close()
    return found + console


def test_pages_of_every_role_load_without_a_csp_violation(transactional_db, live_server, browser):
    enduser = UserFactory(username="csp_user", role="enduser")
    clinician = UserFactory(username="csp_clinician", role="clinician")
    admin = UserFactory(username="csp_admin", role="admin")
    session = session_create(user=enduser, session_type="check_in")
    factories.ReviewItemFactory(session=factories.ChatSessionFactory(), priority=1)
    factories.LabelItemFactory(kind=WorkItem.Kind.SAFETY)
    violations = visit_as(
        browser,
        live_server,
        enduser,
        [("/chat/", "main"), (f"/chat/{session.public_id}/", "#chat-text"), ("/sessions/", "main")],
    )
    violations += visit_as(
        browser,
        live_server,
        clinician,
        [
            ("/review/", "main"),
            ("/labels/safety/", "main"),
            ("/dialogues/", "main"),
            ("/agreement/", "main"),
            # plotly.js drew its charts (it adds its own styles and SVG at run time).
            ("/dashboards/", ".plot .main-svg"),
        ],
    )
    violations += visit_as(
        browser,
        live_server,
        admin,
        [
            ("/models/", "main"),
            ("/audit/", "main"),
            ("/admin/", "#content"),
            ("/admin/evaluation/workitem/", "#changelist"),
            # Swagger UI started from its script file and rendered the operations.
            ("/api/docs/", ".swagger-ui .opblock"),
        ],
    )
    assert violations == [], "\n".join(violations)
