"""In headless Chromium (Debian's package, driven by Playwright): an end user logs in, chats
without page reloads, and gets the emergency flow with the crisis resources; the same chat also
works with JavaScript switched off."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls below are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "pw-for-tests-123"  # noqa: S105 - the shared test users' password
HIGH_RISK = "I want to end my life tonight"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def ready(trained_models, enduser):  # noqa: F811 - pytest fixture from the conftest
    from evaluation.services.starter import starter_content_load
    from tests.training_jobs.fixtures import activate_trained_models

    starter_content_load()
    activate_trained_models(trained_models)
    return enduser


def log_in_and_start(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/chat/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Gentle deep dive").check()
    page.get_by_role("button", name="Start session").click()
    page.wait_for_selector("#chat-text")


def test_user_chats_without_reloads_and_gets_the_emergency_flow(chromium, live_server, ready):
    from conversations.models import Escalation, Message

    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in_and_start(page, live_server, ready.username)
    crisis_panel = page.locator("#crisis-panel")
    assert crisis_panel.is_hidden()
    page.evaluate("window.__noReload = true")

    box = page.get_by_label("Your message to Ari")
    box.fill("Hi Ari")
    box.press("Enter")
    replies = page.locator('[data-testid="message-assistant"]')
    replies.first.wait_for()
    assert page.evaluate("window.__noReload") is True  # the reply came without a reload
    assert page.evaluate("document.activeElement.id") == "chat-text"  # focus back in the box
    assert box.input_value() == ""
    assert page.locator("#chat-status").inner_text() == "Ari replied."
    assert crisis_panel.is_hidden()

    box.fill(HIGH_RISK)
    page.get_by_role("button", name="Send").click()
    page.locator('[data-emergency="true"]').wait_for()
    assert page.evaluate("window.__noReload") is True
    assert crisis_panel.is_visible()
    panel_text = crisis_panel.inner_text()
    assert "Call or text 988" in panel_text and "Text HOME to 741741" in panel_text
    # Focus moves to Ari's emergency reply (its words, then the call and text buttons).
    assert page.evaluate("document.activeElement.dataset.emergency") == "true"
    assert "Support you can reach right now" in page.locator("#chat-status").inner_text()
    assert replies.count() == 2
    assert "Are you safe right now?" in replies.nth(1).inner_text()

    # What the browser showed is what the server stored.
    assert (
        Message.objects.filter(session__user=ready, role="assistant", emergency=True).count() == 1
    )
    assert Escalation.objects.filter(session__user=ready).count() == 1

    # After a reload the resources are still shown prominently.
    page.reload()
    assert page.locator("#crisis-panel").is_visible()
    context.close()


def test_chat_works_with_javascript_switched_off(chromium, live_server, ready):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in_and_start(page, live_server, ready.username)

    page.get_by_label("Your message to Ari").fill("Hi Ari")
    page.get_by_role("button", name="Send").click()  # a normal form post and a reload
    page.locator('[data-testid="message-assistant"]').first.wait_for()
    assert page.locator('[data-testid="message-user"]').inner_text().endswith("Hi Ari")
    context.close()
