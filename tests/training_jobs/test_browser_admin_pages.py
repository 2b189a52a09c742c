"""Headless Chromium on the admin pages (#18), desktop and a 375 x 667 phone: axe-core finds no
serious or critical violation on the training job, model, version comparison, activation
confirmation and release pages, none of them scrolls sideways on the phone, each admin task is
done with the keyboard alone (keystrokes counted), and a training job started from the page (the
quick start's in-process mode: a background thread) leaves the page at once while its progress
bar, announced to screen readers, moves to done without a reload."""

from __future__ import annotations

import os

import pytest
from django.db import connection, transaction

from ari_review.celery import app
from conversations.models import Release, ReleaseStage
from tests.evaluation.test_browser_keyboard import (  # noqa: F401 - pytest fixtures
    CHROMIUM,
    no_persistent_connections,
    page,
)
from tests.evaluation.test_browser_workspace_pages import axe_serious
from tests.factories import UserFactory
from training_jobs.models import ModelVersion, TrainingJob
from training_jobs.releases.services import release_bootstrap, release_create

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]
VIEWPORTS = pytest.mark.parametrize(
    "viewport", [None, {"width": 375, "height": 667}], ids=["desktop", "phone"]
)


def _version(root, name: str, kind: str, *, active: bool = False) -> ModelVersion:
    """A version row whose artifact directory exists (activation refuses one without), empty:
    these tests are about the pages, and nothing here loads a model."""
    (root / name).mkdir()
    return ModelVersion.objects.create(
        artifact_path=str(root / name),
        name=name,
        kind=kind,
        backend="bt" if kind == "reward" else "linear",
        train_data_hash=f"train-{name}",
        test_data_hash=f"test-{name}",
        gate_passed=True,
        metrics={"accuracy": 0.9, "macro_f1": 0.88, "pairwise_accuracy": 0.8},
        is_active=active,
    )


def _registry(tmp_path) -> dict:
    """Live safety and intent versions adopted as the live release, an intent candidate in a
    draft release, and a reward version waiting for its activation."""
    _version(tmp_path, "safety-a", "safety", active=True)
    intent = _version(tmp_path, "intent-a", "intent", active=True)
    candidate = _version(tmp_path, "intent-b", "intent")
    release_bootstrap()
    return {
        "intent": intent,
        "candidate": candidate,
        "reward": _version(tmp_path, "reward-a", "reward"),
        "draft": release_create(intent_version=candidate),
    }


def _login(page, live_server, viewport, next_url: str = "/models/") -> None:  # noqa: F811
    page.set_default_timeout(30_000)  # a loaded machine
    if viewport:
        page.set_viewport_size(viewport)
    UserFactory(role="admin", username="root_keys", password="keyboard-only-1")
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill("root_keys")
    page.get_by_label("Password").fill("keyboard-only-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def _tab_to(page, target, *, skip: bool = False, limit: int = 60) -> int:  # noqa: F811
    """Press Tab from where focus is until ``target`` has it; returns the keys pressed. With
    ``skip`` (a page just loaded), the first Tab reaches "Skip to content" and Enter follows it,
    past the site's navigation, as a keyboard user does."""
    used = 0
    if skip:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        # focus is in the page's main region (the page did not reload: it once did where
        # workspace.js read the link's popstate as a move between items)
        page.wait_for_function("document.activeElement.id === 'main'")
        used = 2
    for pressed in range(used + 1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return pressed
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def _progressbars(page) -> list[tuple[str, str]]:  # noqa: F811
    """(name, value) of each progressbar in Chromium's accessibility tree: what a screen reader
    is given."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    return [
        (
            node.get("name", {}).get("value", ""),
            str(node.get("value", {}).get("value", "")),
        )
        for node in nodes
        if node.get("role", {}).get("value") == "progressbar"
    ]


@VIEWPORTS
def test_admin_pages_have_no_serious_axe_violation_and_fit_the_screen(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
    tmp_path,
    viewport,
):
    made = _registry(tmp_path)
    job = TrainingJob.objects.create(kind="intent", backend="linear", progress=40, stage="fit")
    _login(page, live_server, viewport)
    pages = [
        "/models/",
        f"/models/jobs/{job.pk}/",
        f"/models/{made['candidate'].pk}/",
        "/models/compare/",
        f"/models/compare/?a={made['candidate'].pk}&b={made['intent'].pk}",
        f"/models/{made['reward'].pk}/activate/",
        "/models/releases/",
        f"/models/releases/{made['draft'].pk}/",
        f"/models/releases/{made['draft'].pk}/promote/",
        f"/models/releases/{made['draft'].pk}/rollback/",
        f"/models/releases/{made['draft'].pk}/edit/",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        assert axe_serious(page) == [], path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], (path, width)
        # a table wider than the screen scrolls in a labelled box that Tab reaches
        for box in page.locator(".table-scroll").all():
            if box.evaluate("b => b.scrollWidth > b.clientWidth + 1"):
                assert box.get_attribute("tabindex") == "0", path
                assert box.get_attribute("aria-label"), path
    page.goto(f"{live_server.url}/models/jobs/{job.pk}/")
    assert (f"Training job #{job.pk} progress", "40") in _progressbars(page)


@VIEWPORTS
def test_training_started_from_the_page_returns_at_once_and_the_bar_moves_to_done(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
    tiny_dataset,
    eager_celery,  # the quick start (no broker): training in a background thread
    viewport,
):
    assert app.conf.task_always_eager
    _login(page, live_server, viewport)
    kind = page.get_by_label("Classifier")
    keys = _tab_to(page, kind, skip=True)
    page.keyboard.press("ArrowDown")  # safety -> intent
    assert kind.input_value() == "intent"
    keys += 1 + _tab_to(page, page.get_by_role("button", name="Start training"))
    # The job cannot store its model version while this transaction holds the table in SHARE
    # mode (reads and key checks pass, writes wait): the page must come back while it runs.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {ModelVersion._meta.db_table} IN SHARE MODE")
        page.keyboard.press("Enter")
        keys += 1
        page.wait_for_url("**/models/jobs/*/")
        job = TrainingJob.objects.get()
        box = page.get_by_test_id("job-progress")
        assert box.get_attribute("data-finished") == "0"
        bar = page.get_by_role("progressbar", name=f"Training job #{job.pk} progress")
        assert int(bar.evaluate("b => b.value")) < 100
        page.evaluate("window.samePage = true")  # gone if the page reloads or navigates
    page.wait_for_selector("[data-testid=job-progress][data-finished='1']")
    assert page.evaluate("window.samePage === true")
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert bar.evaluate("b => b.value") == 100
    assert (f"Training job #{job.pk} progress", "100") in _progressbars(page)
    live = box.get_by_role("status")
    assert live.inner_text() == f"Training job #{job.pk} succeeded, 100%."
    link = box.get_by_role("link", name=f"Model version of job #{job.pk}")
    assert link.get_attribute("href") == f"/models/{job.model_version_id}/"
    assert axe_serious(page) == []
    where = "phone" if viewport else "desktop"
    print(f"\nstart a training job from /models/ ({where}): {keys} keystrokes")


@VIEWPORTS
def test_each_admin_task_is_done_with_the_keyboard(
    transactional_db,
    no_persistent_connections,  # noqa: F811
    live_server,
    page,  # noqa: F811
    tmp_path,
    viewport,
):
    made = _registry(tmp_path)
    candidate, reward, draft = made["candidate"], made["reward"], made["draft"]
    counts = {}
    _login(page, live_server, viewport, f"/models/{candidate.pk}/")

    # Compare a version with the one serving now, then with another chosen in the form.
    keys = _tab_to(page, page.get_by_test_id("compare-link"), skip=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/models/compare/?a=*")
    table = page.get_by_test_id("version-compare")
    assert "intent-a (incumbent)" in table.inner_text()
    counts["compare a version with the one serving now (from its page)"] = keys + 1
    beside = page.get_by_label("Beside")
    keys = _tab_to(page, beside, skip=True)
    other = str(made["intent"].pk)
    while beside.input_value() != other:  # arrow keys through the list to intent-a
        page.keyboard.press("ArrowDown")
        keys += 1
        assert keys < 60
    keys += _tab_to(page, page.get_by_role("button", name="Compare"))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith(f"&b={other}"))
    counts["compare with another version (form on the compare page)"] = keys + 1

    # Activate the reward version through its confirmation page.
    page.goto(f"{live_server.url}/models/{reward.pk}/")
    keys = _tab_to(page, page.get_by_role("link", name="Activate…"), skip=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/models/{reward.pk}/activate/")
    keys += 1 + _tab_to(page, page.get_by_role("button", name=f"Activate {reward.name}"), skip=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/models/{reward.pk}/")
    assert page.get_by_test_id("active-badge").is_visible()
    reward.refresh_from_db()
    assert reward.is_active
    counts["activate a reward version (its page, confirmation, activate)"] = keys + 1

    # Promote the draft release to staging: list, its page, the confirmation, promote.
    page.goto(f"{live_server.url}/models/releases/")
    keys = _tab_to(page, page.get_by_role("link", name=draft.name), skip=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/models/releases/{draft.pk}/")
    keys += 1 + _tab_to(page, page.get_by_role("link", name="Promote…"), skip=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/models/releases/{draft.pk}/promote/")
    assert page.get_by_test_id("side-by-side").is_visible()
    keys += 1 + _tab_to(page, page.get_by_role("link", name="go to the decision"), skip=True)
    page.keyboard.press("Enter")  # past the checklist's evidence links
    keys += 1 + _tab_to(page, page.get_by_role("button", name="Promote to staging"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/models/releases/{draft.pk}/")
    assert Release.objects.get(pk=draft.pk).stage == ReleaseStage.STAGING
    counts["promote a release one stage (list, release, confirmation, promote)"] = keys + 1

    where = "phone" if viewport else "desktop"
    for task, pressed in counts.items():
        print(f"\n{task} ({where}): {pressed} keystrokes")
