"""Headless Chromium: the alert bell picks up an escalation (from a real chat turn) and a
monitoring alert (from the rules' evaluation) without a reload, and says so in its live region;
an alert is acknowledged with the keyboard alone; axe-core finds no serious or critical
violation on the alert history page or the dataset browser.

The bell polls every 30 s: the page's clock is Playwright's (``page.clock``), moved forward
instead of waited for."""

from __future__ import annotations

import os
import re

import pytest

from evaluation.models import MonitoringAlert
from tests.evaluation.test_browser_keyboard import (  # noqa: F401 - pytest fixtures
    CHROMIUM,
    no_persistent_connections,
    page,
)
from tests.evaluation.test_browser_workspace_pages import axe_serious
from tests.factories import ChatSessionFactory, ReviewItemFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]

POLL_MS = 30_000


def _bell_count(page) -> str:  # noqa: F811 - "page" is the Playwright page here
    return page.locator("#alert-bell [data-count]").inner_text().strip()


def _tick(page, expected: str) -> None:  # noqa: F811
    """Move the page's clock past one poll and wait for the bell to show ``expected``."""
    from playwright.sync_api import expect

    page.clock.run_for(POLL_MS + 1000)
    expect(page.locator("#alert-bell [data-count]")).to_have_text(expected)


def test_bell_shows_escalation_and_alert_without_reload_and_acknowledges_by_keyboard(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
):
    from conversations.services import chat_turn_run, session_create
    from evaluation.services import alert_rule_update, alert_rules_ensure, alerts_evaluate
    from evaluation.services.starter import starter_content_load
    from tests.conversations.conftest import FixedRisk, RecordingGenerator

    page.set_default_timeout(30_000)  # a loaded machine
    starter_content_load()
    UserFactory(role="clinician", username="dr_bell", password="bell-by-keys-1")
    admin = UserFactory(role="admin", username="admin_bell")

    page.clock.install()
    page.goto(f"{live_server.url}/accounts/login/?next=/alerts/")
    page.get_by_label("Username").fill("dr_bell")
    page.get_by_label("Password").fill("bell-by-keys-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/alerts/")
    page.wait_for_selector("#alert-bell[aria-label]", state="attached")
    assert _bell_count(page) == ""
    assert axe_serious(page) == []

    # An escalation from a real chat turn: the on-call clinician gets an unread alert.
    session = session_create(
        user=UserFactory(role="enduser", username="ana_bell"), session_type="check_in"
    )
    chat_turn_run(
        session=session,
        text="I do not want to be here anymore",
        safety_classifier=FixedRisk("high"),
        generator=RecordingGenerator(),
    )
    _tick(page, "1")
    bell = page.locator("#alert-bell")
    assert "1 unread escalation" in bell.get_attribute("aria-label")
    assert "1 unread escalation" in page.locator("#alert-bell-status").inner_text()

    # A monitoring alert from the rules' evaluation.
    rule = alert_rules_ensure()["review_backlog_high"]
    alert_rule_update(rule=rule, actor=admin, threshold=0)
    ReviewItemFactory()
    alerts_evaluate()
    alert = MonitoringAlert.objects.get(rule=rule)
    _tick(page, "2")
    status = page.locator("#alert-bell-status").inner_text()
    assert "1 open alert" in status and alert.title in status
    assert page.url.endswith("/alerts/")  # no reload: the same page all along

    # Acknowledge with the keyboard: the bell's link opens the history page (Enter), then Tab
    # to the alert's Acknowledge button and press Enter.
    bell.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f'tr[data-alert-id="{alert.pk}"]')
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.textContent.trim(),"
            " document.activeElement.closest('tr')?.dataset.alertId || '']"
        )
        if focused == ["Acknowledge", str(alert.pk)]:
            break
    else:
        pytest.fail("Tab never reached the alert's Acknowledge button")
    page.keyboard.press("Enter")
    page.wait_for_selector(
        f'tr[data-alert-id="{alert.pk}"] button[value=acknowledge]', state="detached"
    )
    alert.refresh_from_db()
    assert alert.status == MonitoringAlert.Status.ACKNOWLEDGED
    assert alert.acknowledged_by.username == "dr_bell"
    row = page.locator(f'tr[data-alert-id="{alert.pk}"]').inner_text()
    assert "dr_bell" in row and re.search(r"Acknowledged", row)
    assert axe_serious(page) == []

    # The dataset browser, with the turn's care level, passes axe too.
    page.goto(f"{live_server.url}/datasets/")
    page.wait_for_selector("[data-row-id]")
    assert "crisis" in page.locator("table[data-testid=dataset]").inner_text()
    assert axe_serious(page) == []
    page.goto(f"{live_server.url}/datasets/conversations/{session.pk}/")
    assert "care level: crisis" in page.inner_text("body")
    assert axe_serious(page) == []


def test_dashboards_draw_targets_as_lines_on_a_date_axis(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
):
    """Plotly in Chromium: each chart is drawn, its target as a dotted line across it, days on
    its time axis; the table view is there for screen readers; axe finds nothing serious."""
    from evaluation.metrics_catalogue import METRICS
    from evaluation.services import metrics_compute

    page.set_default_timeout(30_000)
    UserFactory(role="clinician", username="dr_plot", password="plots-by-keys-1")
    ChatSessionFactory(rating_stars=4)
    metrics_compute()
    page.goto(f"{live_server.url}/accounts/login/?next=/dashboards/")
    page.get_by_label("Username").fill("dr_plot")
    page.get_by_label("Password").fill("plots-by-keys-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboards/")
    chart = page.locator("#chart-latency_p95")
    chart.locator(".main-svg").first.wait_for()
    # The target (p95 < 2000 ms) is a dotted line shape spanning the plot.
    target = chart.locator(".shapelayer path")
    assert target.count() >= 1
    assert "stroke-dasharray: 3px" in (target.first.get_attribute("style") or "")
    ticks = chart.locator(".xtick text").all_text_contents()
    assert ticks and any(
        re.search(r"\d{4}|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec", t) for t in ticks
    ), ticks
    targeted = [name for name, spec in METRICS.items() if spec[3] is not None]
    drawn = 0
    for name in targeted:
        page.locator(f"#chart-{name} .main-svg").first.wait_for()
        if "No data yet" in page.locator(f"#chart-{name}").inner_text():
            continue  # an empty chart says so instead of drawing a lone target
        assert page.locator(f"#chart-{name} .shapelayer path").count() >= 1, name
        drawn += 1
    assert drawn >= 2
    assert page.locator("details summary", has_text="Table: ").count() >= len(METRICS)
    assert axe_serious(page) == []
