"""Headless Chromium: a clinician logs in, rates a session and labels a message using only the
keyboard (the next item loads without a page reload)."""

import os
import shutil

import pytest

from evaluation.models import SafetyLabel, SessionRating
from tests.factories import ChatSessionFactory, LabelItemFactory, ReviewItemFactory, UserFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still plain
# synchronous calls made between browser steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)",
    ),
]
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def no_persistent_connections(settings):
    """Live-server request threads must not keep connections open past the test (otherwise
    the test database cannot be dropped at the end of the run)."""
    from django.db import connections

    old = connections["default"].settings_dict.get("CONN_MAX_AGE", 0)
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
    connections.settings["default"]["CONN_MAX_AGE"] = old


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()
        # ORM calls made while Playwright's loop runs use their own connection: close it so the
        # test database can be dropped at the end of the run.
        from django.db import connections

        connections.close_all()


def test_clinician_rates_a_session_and_labels_a_message_with_the_keyboard_only(
    transactional_db, no_persistent_connections, live_server, page
):
    UserFactory(role="clinician", username="dr_keys", password="keyboard-only-1")
    first = ReviewItemFactory(
        session=ChatSessionFactory(
            turns=[
                (
                    "I have been feeling low all week.",
                    "That sounds heavy. Thank you for telling me.",
                ),
                ("Work keeps piling up.", "It makes sense you feel stretched. What weighs most?"),
            ]
        ),
        priority=1,
    )
    second = ReviewItemFactory(session=ChatSessionFactory(), priority=2)
    safety = LabelItemFactory(
        kind="safety", text="I feel like everyone would be better off without me."
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/review/")
    # The username field has autofocus; wait until the browser has applied it (a loaded
    # machine can deliver the first keys before it does).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")
    page.keyboard.type("dr_keys")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard-only-1")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/review/") and "login" not in url)

    page.keyboard.press("s")  # start
    page.wait_for_url(f"**/review/items/{first.pk}/")
    page.keyboard.press("3")  # appropriate
    page.keyboard.press("l")  # first Ari reply: too long
    page.keyboard.press("y")  # ... and it validated the user
    page.keyboard.press("j")  # second Ari reply
    page.keyboard.press("c")  # probed without consent
    page.keyboard.press("n")  # did not validate
    page.keyboard.press("t")  # note
    page.keyboard.type("Second reply moved on too fast.")
    page.keyboard.press("Escape")
    page.evaluate("window.__sameDocument = true")  # a full page load would forget this
    page.keyboard.press("Enter")  # save; the next session loads in place
    page.wait_for_selector(f'[data-item-id="{second.pk}"]')
    assert page.url.endswith(f"/review/items/{second.pk}/")
    assert page.evaluate("window.__sameDocument") is True, "the next item reloaded the page"
    assert page.locator('[data-testid="done-today"]').inner_text() == "1"

    rating = SessionRating.objects.get(item=first)
    assert rating.appropriateness == "appropriate"
    assert rating.note == "Second reply moved on too fast."
    replies = {r.message.text: r for r in rating.replies.select_related("message")}
    assert replies["That sounds heavy. Thank you for telling me."].flags == ["too_long"]
    assert replies["That sounds heavy. Thank you for telling me."].validated is True
    other = replies["It makes sense you feel stretched. What weighs most?"]
    assert other.flags == ["probed_without_consent"] and other.validated is False

    page.goto(f"{live_server.url}/labels/safety/")
    page.keyboard.press("s")
    page.wait_for_url(f"**/labels/safety/items/{safety.pk}/")
    page.keyboard.press("3")  # high
    page.keyboard.press("w")  # suicidal ideation
    page.keyboard.press("f")  # urgency high
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-empty")  # queue finished, shown in place
    label = SafetyLabel.objects.get(item=safety)
    assert (label.risk_level, label.category, label.urgency) == (
        "high",
        "suicidal_ideation",
        "high",
    )
