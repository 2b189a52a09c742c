"""Headless Chromium: the label pages' one-key acceptance of the model's suggestion (key m),
the label guidelines beside the form (key l), the export buttons, and axe-core on each page
(0 serious or critical violations). Keystrokes per item are counted."""

from __future__ import annotations

import os

import pytest

from evaluation.models import IntentLabel, SafetyLabel, WorkItem
from tests.evaluation.test_browser_keyboard import (  # noqa: F401 - pytest fixtures
    CHROMIUM,
    no_persistent_connections,
    page,
)
from tests.factories import LabelItemFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]


def axe_serious(page) -> list[str]:  # noqa: F811 - "page" is the Playwright page here
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} node(s))"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_accepting_the_models_suggestion_takes_one_key(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
):
    page.set_default_timeout(30_000)  # a loaded machine
    UserFactory(role="clinician", username="dr_m", password="keyboard-only-1")
    safety = LabelItemFactory(
        kind=WorkItem.Kind.SAFETY,
        text="I keep thinking about hurting myself again.",
        suggestion={"risk_level": "medium", "category": "self_harm", "urgency": "medium"},
    )
    intent = LabelItemFactory(
        kind=WorkItem.Kind.INTENT, suggestion={"intent": "validate", "score": 0.8}
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/labels/safety/")
    page.get_by_label("Username").fill("dr_m")
    page.get_by_label("Password").fill("keyboard-only-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/labels/safety/")
    assert page.get_by_role("button", name="Export CSV").is_visible()
    assert axe_serious(page) == []

    page.keyboard.press("s")  # start
    page.wait_for_url(f"**/labels/safety/items/{safety.pk}/")
    guidelines = page.get_by_test_id("guidelines")
    assert guidelines.get_attribute("open") is None
    page.keyboard.press("l")  # the label guidelines open beside the form
    assert guidelines.get_attribute("open") is not None
    assert "Thoughts of suicide or harm with a plan" in guidelines.inner_text()
    assert axe_serious(page) == []
    page.keyboard.press("m")  # accept the model's suggestion: saved, the queue moves on
    page.wait_for_selector(".ws-empty")
    label = SafetyLabel.objects.get(item=safety)
    assert (label.risk_level, label.category, label.urgency) == ("medium", "self_harm", "medium")
    assert label.suggestion_shown is True
    print("\naccepting the model's suggestion on a safety item: 1 keystroke (m)")
    page.keyboard.press("u")  # undo it: the item comes back to be labelled again
    page.wait_for_selector(".flash")
    assert page.url.endswith(f"/labels/safety/items/{safety.pk}/")
    assert not SafetyLabel.objects.filter(item=safety).exists()
    assert "Your last label was undone" in page.inner_text(".flash")
    page.keyboard.press("m")  # and accept it again
    page.wait_for_selector(".ws-empty")
    assert SafetyLabel.objects.filter(item=safety).count() == 1
    print("undoing the last label: 1 keystroke (u)")

    page.goto(f"{live_server.url}/labels/intent/")
    page.keyboard.press("s")
    page.wait_for_url(f"**/labels/intent/items/{intent.pk}/")
    assert axe_serious(page) == []
    page.keyboard.press("m")
    page.wait_for_selector(".ws-empty")
    assert IntentLabel.objects.get(item=intent).intent == "validate"
