"""Releases: the stages, the gate and its override, the approver rule, rollback from any stage,
two admins at once, the quick start's first release, and the pages and API (docs/releases.md)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from conversations.models import Release, ReleaseStage
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.training_jobs.releases import (
    STAGES,
    candidate,
    live_release_adopt,
    version_copy,
)
from training_jobs.models import ModelVersion, ReleaseEvent
from training_jobs.releases.services import release_create, release_promote, release_rollback

GOOD = {"high_recall": 0.99, "latency_single": {"p95_ms": 3.0}}


@pytest.fixture(autouse=True)
def _release_settings(settings):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    settings.ARI_RELEASE_SEPARATE_APPROVER = False


@pytest.fixture
def live(active_models):
    return live_release_adopt()


def _active(kind: str) -> str:
    return ModelVersion.objects.get(kind=kind, is_active=True).name


def test_a_release_walks_every_stage_and_only_100_percent_switches_the_models(
    live, active_models, admin_user
):
    new_safety = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = release_create(safety_version=new_safety, created_by=admin_user)
    assert release.intent_version == active_models["intent"]  # left out: the live one
    for stage in STAGES[1:-1]:
        release = release_promote(release_id=release.pk, user=admin_user, from_stage=release.stage)
        assert release.stage == stage
        assert _active("safety") == active_models["safety"].name  # the incumbent still serves
    # 100% is held back while evidence is pending (the frozen-set runs, the clinician review)
    with pytest.raises(ApplicationError, match="blocked by the checklist.*pending"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="canary_50")
    release = release_promote(
        release_id=release.pk,
        user=admin_user,
        from_stage="canary_50",
        override_reason="Persona set checked by hand on 2026-12-06.",
    )
    live.refresh_from_db()
    assert release.stage == ReleaseStage.LIVE and live.stage == ReleaseStage.RETIRED
    assert release.incumbent == live
    assert _active("safety") == "safety-next"
    events = list(release.events.values_list("kind", "from_stage", "to_stage"))
    assert [e[2] for e in events if e[0] == "stage"] == STAGES[1:]
    override = release.events.get(kind=ReleaseEvent.Kind.OVERRIDE)
    assert override.reason.startswith("Persona set") and override.actor == admin_user
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"release.create", "release.promote", "release.override"} <= actions


def test_a_failing_checklist_item_blocks_promotion_until_an_admin_overrides_with_a_reason(
    live, active_models, admin_user, client
):
    weak = version_copy(active_models["safety"], "safety-weak", metrics={"high_recall": 0.9})
    release = candidate(admin_user, "draft", safety_version=weak)
    release = release_promote(release_id=release.pk, user=admin_user, from_stage="draft")
    with pytest.raises(ApplicationError, match="Safety recall.*fail.*0.900"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="staging")
    with pytest.raises(ApplicationError, match="override it with a written reason"):
        release_promote(
            release_id=release.pk, user=admin_user, from_stage="staging", override_reason="  "
        )
    release.refresh_from_db()
    assert release.stage == ReleaseStage.STAGING

    release = release_promote(
        release_id=release.pk,
        user=admin_user,
        from_stage="staging",
        override_reason="Recall measured 0.985 on the new verified set (report #12).",
    )
    assert release.stage == ReleaseStage.CANARY_5
    audit = AuditEvent.objects.get(action="release.override")
    assert audit.after["reason"].startswith("Recall measured") and audit.before["blocking"] == [
        "safety_recall"
    ]
    client.force_login(admin_user)
    body = client.get(reverse("training_jobs:release-detail", args=[release.pk])).content.decode()
    assert "Recall measured 0.985" in body and 'data-testid="check-safety_recall"' in body


def test_the_dwell_time_holds_a_stage(live, active_models, admin_user, settings):
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 24 * 60
    new = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = candidate(admin_user, "draft", safety_version=new)
    release = release_promote(release_id=release.pk, user=admin_user, from_stage="draft")
    with pytest.raises(ApplicationError, match="Minimum dwell in Staging.*0 of 1440 min"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="staging")


def test_the_approver_may_not_be_the_creator_when_the_setting_says_so(
    live, active_models, admin_user, settings
):
    settings.ARI_RELEASE_SEPARATE_APPROVER = True
    other_admin = UserFactory(username="second_admin", role="admin")
    new = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = release_create(safety_version=new, created_by=admin_user)
    with pytest.raises(ApplicationError, match="cannot approve it"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="draft")
    assert (
        release_promote(release_id=release.pk, user=other_admin, from_stage="draft").stage
        == "staging"
    )


def test_only_one_release_is_in_flight(live, active_models, admin_user):
    first = candidate(
        admin_user, "staging", intent_version=version_copy(active_models["intent"], "i1")
    )
    second = release_create(
        intent_version=version_copy(active_models["intent"], "i2"), created_by=admin_user
    )
    with pytest.raises(ApplicationError, match="Another release is already in staging"):
        release_promote(release_id=second.pk, user=admin_user, from_stage="draft")
    first.refresh_from_db()
    assert first.stage == "staging"


@pytest.mark.parametrize("stage", ["staging", "canary_5", "canary_50"])
def test_a_candidate_is_rolled_back_from_any_stage_and_the_incumbent_keeps_serving(
    live, active_models, admin_user, stage
):
    new = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = candidate(admin_user, stage, safety_version=new)
    with pytest.raises(ApplicationError, match="Say why"):
        release_rollback(release_id=release.pk, user=admin_user, reason=" ")
    release = release_rollback(release_id=release.pk, user=admin_user, reason="Odd replies.")
    live.refresh_from_db()
    assert release.stage == ReleaseStage.ROLLED_BACK and live.stage == ReleaseStage.LIVE
    assert _active("safety") == active_models["safety"].name
    assert AuditEvent.objects.filter(action="release.rollback", object_id=str(release.pk)).exists()


def test_rolling_back_a_live_release_restores_the_incumbent_and_its_models(
    live, active_models, admin_user
):
    new = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = candidate(admin_user, "live", safety_version=new)
    assert _active("safety") == "safety-next"
    release_rollback(release_id=release.pk, user=admin_user, reason="Escalations doubled.")
    live.refresh_from_db()
    release.refresh_from_db()
    assert live.stage == ReleaseStage.LIVE and release.stage == ReleaseStage.ROLLED_BACK
    assert _active("safety") == active_models["safety"].name
    assert release.rollback_reason == "Escalations doubled."


@pytest.mark.django_db(transaction=True)
def test_two_admins_promoting_at_once_leave_one_consistent_state(trained_models, settings):
    from tests.training_jobs.fixtures import activate_trained_models

    active = activate_trained_models(trained_models)
    live_release_adopt()
    admins = [
        UserFactory(username="admin_a", role="admin"),
        UserFactory(username="admin_b", role="admin"),
    ]
    new = version_copy(active["safety"], "safety-next", metrics=GOOD)
    release = candidate(admins[0], "staging", safety_version=new)

    barrier = threading.Barrier(2)
    outcomes: list = []

    def promote(admin):
        try:
            barrier.wait(timeout=10)
            release_promote(release_id=release.pk, user=admin, from_stage="staging")
            outcomes.append("promoted")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()  # each thread had a connection of its own

    threads = [threading.Thread(target=promote, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes, key=len)[0] == "promoted"
    assert outcomes.count("promoted") == 1
    assert any("someone else moved it" in o for o in outcomes)
    release.refresh_from_db()
    assert release.stage == ReleaseStage.CANARY_5
    moves = ReleaseEvent.objects.filter(release=release, kind="stage", from_stage="staging")
    assert moves.count() == 1
    assert Release.objects.filter(stage__in=["staging", "canary_5", "canary_25"]).count() == 1


def test_api_creates_promotes_and_rolls_back_with_the_checklist(live, active_models, admin_user):
    api = client_for(admin_user)
    new = version_copy(active_models["intent"], "intent-next")
    created = api.post(
        reverse("api-release-create"), {"intent_version": new.pk, "notes": "n"}, format="json"
    )
    assert created.status_code == 201, created.content
    release_id = created.json()["id"]
    promoted = api.post(
        reverse("api-release-promote", args=[release_id]), {"from_stage": "draft"}, format="json"
    )
    assert promoted.status_code == 200 and promoted.json()["stage"] == "staging"
    stale = api.post(
        reverse("api-release-promote", args=[release_id]), {"from_stage": "draft"}, format="json"
    )
    assert stale.status_code == 400 and "someone else moved it" in stale.json()["detail"]
    detail = api.get(reverse("api-release-detail", args=[release_id])).json()
    assert [(e["to_stage"], e["actor"]) for e in detail["events"]] == [("staging", "root_admin")]
    statuses = {i["key"]: i["status"] for i in detail["checklist"]}
    assert statuses["validation"] == "pending" and statuses["safety_recall"] == "pass"
    assert set(detail["arms"]) == {"control", "canary"}
    rolled = api.post(
        reverse("api-release-rollback", args=[release_id]),
        {"from_stage": "staging", "reason": "Not needed."},
        format="json",
    )
    assert rolled.status_code == 200 and rolled.json()["stage"] == "rolled_back"
    schema = api.get("/api/schema/").content.decode()
    assert "/api/v1/releases/{release_id}/promote/" in schema


def test_the_pages_confirm_with_the_candidate_beside_the_incumbent(
    live, active_models, admin_user, client
):
    new = version_copy(active_models["safety"], "safety-next", metrics=GOOD)
    release = candidate(admin_user, "draft", safety_version=new)
    client.force_login(admin_user)
    assert "safety-next" in client.get(reverse("training_jobs:release-list")).content.decode()
    confirm = client.get(reverse("training_jobs:release-promote", args=[release.pk]))
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert 'data-testid="side-by-side"' in body
    assert active_models["safety"].name in body and "safety-next" in body
    assert 'name="from_stage" value="draft"' in body
    done = client.post(
        reverse("training_jobs:release-promote", args=[release.pk]), {"from_stage": "draft"}
    )
    assert done.status_code == 302
    release.refresh_from_db()
    assert release.stage == "staging"
    page = client.get(reverse("training_jobs:release-detail", args=[release.pk])).content.decode()
    assert 'id="chart-p95_ms"' in page and "chart-errors-data" in page
    assert 'data-testid="timeline"' in page


def test_no_page_or_endpoint_activates_a_model_with_one_click(active_models, admin_user, client):
    client.force_login(admin_user)
    trained = version_copy(active_models["safety"], "safety-next")
    body = client.get(reverse("training_jobs:model-detail", args=[trained.pk])).content.decode()
    assert "Activate this version" not in body and "Propose in a new release" in body
    schema = client_for(admin_user).get("/api/schema/").content.decode()
    assert "/activate/" not in schema


def test_the_gate_reads_the_candidates_evaluation_run_on_the_frozen_safety_set(
    live, active_models, admin_user
):
    """An evaluation run of the candidate on a frozen safety set decides the recall item, over
    the recall the version stored at training (its frozen split)."""
    from django.utils import timezone

    from evaluation.models import EvaluationRun, FrozenSet
    from training_jobs.releases.gate import release_checklist

    strong = version_copy(active_models["safety"], "safety-strong", metrics=GOOD)
    release = candidate(admin_user, "draft", safety_version=strong)
    recall = {i.key: i for i in release_checklist(release)}["safety_recall"]
    assert recall.status == "pass" and "frozen test split" in recall.detail
    frozen = FrozenSet.objects.create(
        kind="safety", version=1, status="frozen", content_hash="0" * 64, frozen_at=timezone.now()
    )
    run = EvaluationRun.objects.create(
        frozen_set=frozen,
        model_version=strong,
        status=EvaluationRun.Status.SUCCEEDED,
        metrics={"safety_recall": 0.9},
        finished_at=timezone.now(),
    )
    recall = {i.key: i for i in release_checklist(release)}["safety_recall"]
    assert recall.status == "fail" and f"evaluation run {run.pk}" in recall.detail
    assert recall.evidence_url == reverse("evaluation:evaluation-run", args=[run.pk])
    with pytest.raises(ApplicationError, match="Safety recall"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="draft")
        release_promote(release_id=release.pk, user=admin_user, from_stage="staging")
