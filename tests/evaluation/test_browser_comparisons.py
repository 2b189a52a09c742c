"""Headless Chromium: a pair compared on four dimensions with the keyboard (keystrokes counted,
issue #18's target is 8 at most), the definitions beside each dimension, no focus trap, the
keyboard help overlay (?) on the label, review and comparison pages, and axe-core on each
(0 serious or critical violations); desktop and a 375 x 667 phone."""

from __future__ import annotations

import os

import pytest

from evaluation.models import PreferenceJudgement
from tests.evaluation.test_browser_keyboard import (  # noqa: F401 - pytest fixtures
    CHROMIUM,
    no_persistent_connections,
    page,
)
from tests.evaluation.test_browser_workspace_pages import axe_serious
from tests.factories import LabelItemFactory, PreferenceItemFactory, ReviewItemFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]
DIMENSIONS = ("empathy", "presence", "stabilization", "safety")


def _login(page, live_server, next_url: str) -> None:  # noqa: F811
    UserFactory(role="clinician", username="dr_pair", password="keyboard-only-1")
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill("dr_pair")
    page.get_by_label("Password").fill("keyboard-only-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def _compare_pair_by_keyboard(page, item) -> int:  # noqa: F811
    """From the queue page: start, one key per dimension, A, Enter. Returns the keys pressed."""
    keys = ["s", "1", "2", "3", "5", "a", "Enter"]
    page.keyboard.press(keys[0])
    page.wait_for_url(f"**/comparisons/items/{item.pk}/")
    for key in keys[1:]:
        page.keyboard.press(key)
    page.wait_for_selector(".ws-empty")
    return len(keys) - 1  # "s" opens the queue's next item; the comparison itself is the rest


@pytest.mark.parametrize(
    "viewport", [None, {"width": 375, "height": 667}], ids=["desktop", "phone"]
)
def test_a_pair_is_compared_on_four_dimensions_in_six_keys(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
    viewport,
):
    page.set_default_timeout(30_000)
    if viewport:
        page.set_viewport_size(viewport)
    item = PreferenceItemFactory(texts=("That sounds exhausting. What happened?", "Try to relax."))
    _login(page, live_server, "/comparisons/")
    assert axe_serious(page) == []

    page.goto(f"{live_server.url}/comparisons/items/{item.pk}/")
    for dim in DIMENSIONS:  # each dimension's definition is beside it, on screen
        row = page.locator(f"[data-dim-row={dim}]")
        assert row.locator(".dim-def").is_visible()
        assert row.get_attribute("aria-describedby") == f"def-{dim}"
    assert not page.locator("input[type=radio]:checked").count()  # nothing pre-selected
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_serious(page) == []
    page.goto(f"{live_server.url}/comparisons/")

    pressed = _compare_pair_by_keyboard(page, item)

    judgement = PreferenceJudgement.objects.get(item=item)
    a, b = judgement.shown_order  # A and B as shown to this clinician
    assert judgement.chosen_id == a and not judgement.tie
    assert judgement.dimension_comparison == {
        "empathy": {"better": a, "margin": 2},
        "presence": {"better": a, "margin": 1},
        "stabilization": {"better": None, "margin": 0},
        "safety": {"better": b, "margin": 2},
    }
    assert pressed <= 8
    where = "phone" if viewport else "desktop"
    print(f"\ncompare a pair on four dimensions ({where}): {pressed} keystrokes")


def test_tab_moves_through_the_comparison_and_out(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
):
    page.set_default_timeout(30_000)
    item = PreferenceItemFactory(texts=("One reply.", "Another reply."))
    _login(page, live_server, f"/comparisons/items/{item.pk}/")
    page.locator("[data-dim-row=empathy] input").first.focus()
    visited = []
    for _ in range(40):
        page.keyboard.press("Tab")
        visited.append(
            page.evaluate(
                "(() => { const el = document.activeElement;"
                " const row = el.closest('[data-dim-row]');"
                " if (row) return row.dataset.dimRow;"
                " return el.closest('form[data-main]') ? 'form' : 'out'; })()"
            )
        )
        if visited[-1] == "out":
            break
    # one Tab per dimension (a radio group is one stop), then the rest of the form, then out
    assert visited[:3] == ["presence", "stabilization", "safety"]
    assert visited[-1] == "out"


def test_question_mark_opens_the_keys_of_the_page_and_escape_returns_focus(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
):
    page.set_default_timeout(30_000)
    pair = PreferenceItemFactory(texts=("One reply.", "Another reply."))
    safety = LabelItemFactory(text="I feel like nothing will ever get better.")
    review = ReviewItemFactory()
    _login(page, live_server, "/labels/safety/")
    pages = {
        "/labels/safety/": "start: take the next item",
        f"/labels/safety/items/{safety.pk}/": "risk: none / low / medium / high",
        f"/review/items/{review.pk}/": "",
        f"/comparisons/items/{pair.pk}/": "compare the pair on the current dimension",
    }
    for path, expected in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.evaluate("document.querySelector('h1').setAttribute('tabindex', '-1')")
        page.locator("h1").first.focus()
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        assert dialog.is_visible(), path
        assert dialog.get_attribute("aria-modal") == "true"
        assert dialog.locator("dt").count() >= 1
        if expected:
            assert expected in dialog.inner_text(), path
        assert axe_serious(page) == [], path
        checked = page.locator("input:checked").count()
        page.keyboard.press("1")  # no shortcut acts behind the dialog
        assert page.locator("input:checked").count() == checked, path
        page.keyboard.press("Escape")
        assert not dialog.is_visible(), path
        assert page.evaluate("document.activeElement.tagName") == "H1", path
    assert not PreferenceJudgement.objects.exists()
