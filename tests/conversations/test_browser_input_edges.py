"""In headless Chromium (Debian's package, driven by Playwright): the edges of the chat box.

A long paste is never cut short (a notice says how long it is, Send waits); a send that fails
in any way (the server refuses it, the connection drops, 429, 5xx) leaves the draft in the box
with an error notice; suggested replies under the latest reply are buttons that send their text
through the same path, and go away when a newer reply arrives.
"""

from __future__ import annotations

import json
import os

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls below are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.conversations.test_browser_chat import (  # noqa: E402 - after the env var above
    HIGH_RISK,
    chromium,  # noqa: F401 - pytest fixture
    log_in_and_start,
    ready,  # noqa: F401 - pytest fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGES_API = "**/api/v1/sessions/*/messages/"
SUGGESTIONS = ["I'm safe right now", "I'm not safe", "Show me the resources again"]
LIMIT_NOTICE = (
    "Your message is 4,500 characters; the limit is 4,000. Please shorten it or split it into "
    "two messages."
)


@pytest.fixture
def page(chromium, live_server, ready):  # noqa: F811 - pytest fixtures
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in_and_start(page, live_server, ready.username)
    page.evaluate("window.__noReload = true")
    yield page
    context.close()


def set_box(page, text: str) -> None:
    """Put ``text`` in the box as a paste does (value set at once, one input event): used for
    characters a keyboard cannot type."""
    page.locator("#chat-text").evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        text,
    )


def test_a_long_paste_is_kept_whole_with_a_notice_and_send_waits(page):
    from playwright.sync_api import expect

    from conversations.models import Message

    box = page.get_by_label("Your message to Ari")
    send = page.get_by_role("button", name="Send")
    notice = page.locator("#chat-limit")
    assert notice.get_attribute("aria-live") == "polite"
    expect(notice).to_have_text("")

    box.focus()
    page.keyboard.insert_text("x" * 4500)  # what a paste does: a maxlength would cut it here
    assert len(box.input_value()) == 4500
    expect(notice).to_have_text(LIMIT_NOTICE)
    expect(notice).to_be_visible()
    expect(send).to_be_disabled()
    expect(page.locator("#chat-count")).to_have_text("4,500 / 4,000 characters")
    assert box.get_attribute("aria-invalid") == "true"

    box.press("Enter")  # Enter does not send an over-long message either
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="message-user"]').count() == 0
    assert len(box.input_value()) == 4500
    assert not Message.objects.exists()

    # Shortened to the limit: the notice goes, Send comes back, and it sends all 4,000.
    box.fill("y" * 4000)
    expect(notice).to_have_text("")
    expect(send).to_be_enabled()
    expect(page.locator("#chat-count")).to_have_text("4,000 / 4,000 characters")
    assert box.get_attribute("aria-invalid") is None
    send.click()
    page.locator('[data-testid="message-assistant"]').first.wait_for()
    expect(box).to_have_value("")
    assert Message.objects.get(role="user").text == "y" * 4000
    assert page.evaluate("window.__noReload") is True


def test_a_refused_send_keeps_the_draft_and_shows_the_error(page):
    from playwright.sync_api import expect

    from conversations.models import Message

    draft = "Hello Ari\x00 this came from a broken paste"
    set_box(page, draft)
    page.get_by_role("button", name="Send").click()

    error = page.locator("#chat-error")
    expect(error).to_contain_text("contains control characters")
    assert error.get_attribute("role") == "alert"
    assert page.locator("#chat-text").input_value() == draft
    assert page.locator('[data-testid="message-user"]').count() == 0  # no stray bubble
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    assert not Message.objects.exists()

    # Fixed, it goes through, and only then does the box empty.
    set_box(page, "Hello Ari, this is fine now")
    page.get_by_role("button", name="Send").click()
    page.locator('[data-testid="message-assistant"]').first.wait_for()
    expect(page.locator("#chat-text")).to_have_value("")
    expect(error).to_have_text("")
    assert Message.objects.get(role="user").text == "Hello Ari, this is fine now"


def test_a_dropped_connection_keeps_the_draft_and_a_retry_reuses_the_key(page):
    from playwright.sync_api import expect

    from conversations.models import Message

    keys = []

    def drop(route):
        keys.append(route.request.headers.get("idempotency-key"))
        route.abort("connectionreset")

    page.route(MESSAGES_API, drop)
    box = page.get_by_label("Your message to Ari")
    box.fill("Is anyone there?")
    box.press("Enter")
    expect(page.locator("#chat-error")).to_contain_text("Couldn't reach Ari")
    expect(page.locator("#chat-error")).to_contain_text("still in the box")
    assert box.input_value() == "Is anyone there?"
    assert page.locator('[data-testid="message-user"]').count() == 0
    assert not Message.objects.exists()

    page.unroute(MESSAGES_API)
    sent = []
    page.on("request", lambda r: sent.append(r) if "/messages/" in r.url else None)
    box.press("Enter")  # the retry of the same text carries the same Idempotency-Key
    page.locator('[data-testid="message-assistant"]').first.wait_for()
    expect(box).to_have_value("")
    assert keys[0] and sent[0].headers.get("idempotency-key") == keys[0]
    assert Message.objects.filter(role="user").count() == 1


@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (429, "application/json", '{"detail": "Request was throttled."}', "faster than Ari"),
        (500, "text/html", "<h1>Server Error (500)</h1>", "went wrong on our side"),
        (503, "application/json", '{"detail": "down"}', "went wrong on our side"),
    ],
    ids=["429", "500-html", "503"],
)
def test_a_server_error_keeps_the_draft_and_shows_a_notice(
    page, status, content_type, body, message
):
    from playwright.sync_api import expect

    page.route(
        MESSAGES_API,
        lambda route: route.fulfill(status=status, content_type=content_type, body=body),
    )
    box = page.get_by_label("Your message to Ari")
    box.fill("A thought I don't want to lose")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-error")).to_contain_text(message)
    assert box.input_value() == "A thought I don't want to lose"
    assert page.locator('[data-testid="message-user"]').count() == 0
    expect(page.locator("#chat-status")).to_have_text("")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_suggested_replies_render_as_buttons_and_send_their_text(page):
    from playwright.sync_api import expect

    from conversations.models import Message

    requests = []

    def with_suggestions(route):
        """The real server's answer, with ``suggested_replies`` added to the first reply."""
        requests.append(
            {
                "body": route.request.post_data_json,
                "key": route.request.headers.get("idempotency-key"),
            }
        )
        response = route.fetch()
        data = response.json()
        assert set(data) == {"user_message", "reply", "session"}
        if len(requests) == 1:
            data["reply"]["suggested_replies"] = SUGGESTIONS
        else:
            data["reply"].pop("suggested_replies", None)  # a newer reply without any
        route.fulfill(response=response, body=json.dumps(data))

    page.route(MESSAGES_API, with_suggestions)
    box = page.get_by_label("Your message to Ari")
    box.fill("Hi Ari")
    box.press("Enter")
    page.locator('[data-testid="message-assistant"]').first.wait_for()

    group = page.get_by_role("group", name="Suggested replies")
    expect(group).to_be_visible()
    buttons = group.get_by_role("button")
    expect(buttons).to_have_text(SUGGESTIONS)
    assert buttons.evaluate_all("bs => bs.map(b => b.tagName)") == ["BUTTON"] * 3
    expect(page.locator("#chat-status")).to_contain_text("Suggested replies")

    box.fill("a half-written thought")  # a draft the suggestion must not take with it
    group.get_by_role("button", name=SUGGESTIONS[2]).click()
    expect(page.locator('[data-testid="message-assistant"]')).to_have_count(2)

    assert requests[1]["body"] == {"text": SUGGESTIONS[2]}  # exactly the button's text
    assert requests[1]["key"] and requests[1]["key"] != requests[0]["key"]
    expect(page.locator('[data-testid="message-user"]').nth(1)).to_contain_text(SUGGESTIONS[2])
    assert list(
        Message.objects.filter(role="user").order_by("id").values_list("text", flat=True)
    ) == ["Hi Ari", SUGGESTIONS[2]]
    # The newer reply has none: the buttons are gone; the draft is still in the box.
    expect(page.locator("#suggested-replies")).to_be_hidden()
    expect(page.locator("#suggested-replies button")).to_have_count(0)
    assert box.input_value() == "a half-written thought"
    assert page.evaluate("window.__noReload") is True


def test_a_suggestion_that_fails_to_send_stays(page):
    from playwright.sync_api import expect

    calls = []

    def first_with_suggestions_then_drop(route):
        calls.append(route.request.post_data_json)
        if len(calls) > 1:
            route.abort("connectionreset")
            return
        response = route.fetch()
        data = response.json()
        data["reply"]["suggested_replies"] = SUGGESTIONS
        route.fulfill(response=response, body=json.dumps(data))

    page.route(MESSAGES_API, first_with_suggestions_then_drop)
    box = page.get_by_label("Your message to Ari")
    box.fill("Hi Ari")
    box.press("Enter")
    group = page.get_by_role("group", name="Suggested replies")
    expect(group.get_by_role("button")).to_have_count(3)

    button = group.get_by_role("button", name=SUGGESTIONS[0])
    button.focus()
    page.keyboard.press("Enter")  # keyboard works as a click does
    expect(page.locator("#chat-error")).to_contain_text("Couldn't reach Ari")
    assert calls[1] == {"text": SUGGESTIONS[0]}
    expect(group.get_by_role("button")).to_have_count(3)
    expect(group.get_by_role("button").first).to_be_enabled()
    expect(page.locator('[data-testid="message-user"]')).to_have_count(1)


def test_suggestions_shown_after_a_reload_send_through_the_api(page, live_server):
    from playwright.sync_api import expect

    from conversations.models import Message

    if not any(f.name == "suggested_replies" for f in Message._meta.get_fields()):
        pytest.skip("Message.suggested_replies has not landed yet")
    box = page.get_by_label("Your message to Ari")
    box.fill("Hi Ari")
    box.press("Enter")
    page.locator('[data-testid="message-assistant"]').first.wait_for()
    Message.objects.filter(role="assistant").update(suggested_replies=SUGGESTIONS)

    page.reload()
    page.evaluate("window.__noReload = true")
    group = page.get_by_role("group", name="Suggested replies")
    expect(group.get_by_role("button")).to_have_text(SUGGESTIONS)
    group.get_by_role("button", name=SUGGESTIONS[2]).click()
    expect(page.locator('[data-testid="message-assistant"]')).to_have_count(2)
    assert page.evaluate("window.__noReload") is True  # sent through the API, not the form
    assert Message.objects.filter(role="user").order_by("-id")[0].text == SUGGESTIONS[2]


def test_leaving_safety_mode_through_a_real_suggested_reply(page):
    from playwright.sync_api import expect

    from conversations.models import ChatSession

    box = page.get_by_label("Your message to Ari")
    box.fill(HIGH_RISK)
    box.press("Enter")
    page.locator('[data-emergency="true"]').wait_for()
    group = page.get_by_role("group", name="Suggested replies")
    expect(group.get_by_role("button")).to_have_text(SUGGESTIONS, timeout=5_000)
    assert ChatSession.objects.get().safety_mode is True

    group.get_by_role("button", name="I'm safe right now").click()
    expect(page.locator('[data-testid="message-assistant"]')).to_have_count(2)
    assert ChatSession.objects.get().safety_mode is False
