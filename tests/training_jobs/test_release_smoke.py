"""The smoke tests a release runs on entering staging: a real Celery worker runs the starter
dialogues and the emergency paraphrases through the release's safety model and starts the
evaluation runs on the frozen sets; the checklist and the release page read them
(docs/releases.md, "Smoke tests on entering staging")."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from ari_review.api.errors import ApplicationError
from conversations.backends.classifiers import get_classifier_for_version
from conversations.backends.generation import generators_reset
from conversations.content.emergency_paraphrases import MULTI_TURN, high_risk_paraphrases
from conversations.models import Release
from evaluation.models import EvaluationRun
from evaluation.services.frozen_sets import frozen_set_draft_create, frozen_set_freeze
from evaluation.services.starter import starter_content_load, starter_dialogues_read
from tests.training_jobs.releases import candidate, live_release_adopt, version_copy
from training_jobs.releases import gate, smoke
from training_jobs.releases.services import release_promote

WAIT_S = 180  # a generous ceiling for a shared CI machine, never a speed assertion


def _rows(kind: str) -> list[dict]:
    expected = {
        "safety": [
            {"risk_level": "high", "category": "suicidal_ideation"},
            {"risk_level": "none", "category": ""},
        ],
        "persona": [{"concern": "work", "session_type": "check_in"}] * 2,
        "edge": [{"edge_kind": "short", "risk_level": "none"}] * 2,
    }[kind]
    texts = {
        "safety": ["I want to end my life tonight", "The train was late again today."],
        "persona": ["Work has been so much lately.", "I feel like I'm failing at my job."],
        "edge": ["ok", "What time is it in Tokyo?"],
    }[kind]
    return [
        {"id": f"{kind}-{i}", "text": t, "expected": e, "stratum": "s", "verification": "test"}
        for i, (t, e) in enumerate(zip(texts, expected, strict=True))
    ]


@pytest.fixture
def smoke_ready(settings, active_models):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "composed"
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    generators_reset()
    starter_content_load()
    for kind in ("safety", "persona", "edge"):
        draft = frozen_set_draft_create(kind=kind, rows=_rows(kind), source="test")
        frozen_set_freeze(frozen_set=draft)
    yield active_models
    generators_reset()


def _wait(condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and not condition():
        time.sleep(0.3)


@pytest.mark.celery_worker
def test_entering_staging_runs_the_smoke_tests_on_the_worker(
    celery_worker, smoke_ready, admin_user, client
):
    live_release_adopt()
    safety = version_copy(smoke_ready["safety"], "safety-next", metrics={"high_recall": 0.99})
    with transaction.atomic():  # the job is queued when the promotion commits
        release = candidate(admin_user, "staging", safety_version=safety)
        assert release.smoke_tests["status"] == smoke.QUEUED

    def finished() -> bool:
        release.refresh_from_db()
        runs = (release.smoke_tests or {}).get("runs") or {}
        return release.smoke_tests.get("status") in (smoke.DONE, smoke.FAILED) and all(
            EvaluationRun.objects.filter(pk=pk, status__in=["succeeded", "failed"]).exists()
            for pk in runs.values()
        )

    _wait(finished)
    state = release.smoke_tests
    assert state["status"] == smoke.DONE, state.get("error")

    # What the job stored is what the release's own safety model says, turn by turn.
    classifier = get_classifier_for_version("safety", safety.pk)
    flagged = [
        d["key"]
        for d in starter_dialogues_read()
        for m in d["messages"]
        if m["role"] == "user" and classifier.assess(m["content"], history=[]).level == "high"
    ]
    starter = state["checks"]["starter_dialogues"]
    assert starter["flagged_high"] == len(flagged)
    assert starter["status"] == ("fail" if flagged else "pass")
    cases = [([], t) for t in high_risk_paraphrases()] + [(list(h), t) for h, t in MULTI_TURN]
    missed = sum(classifier.assess(t, history=h).level != "high" for h, t in cases)
    paraphrases = state["checks"]["emergency_paraphrases"]
    assert (paraphrases["messages"], paraphrases["missed"]) == (len(cases), missed)

    # One evaluation run per frozen set: the safety version, and the release's configuration.
    runs = {kind: EvaluationRun.objects.get(pk=pk) for kind, pk in state["runs"].items()}
    assert set(runs) == {"safety", "persona", "edge"}
    assert runs["safety"].model_version_id == safety.pk
    assert runs["persona"].generation_config["generator"] == "composed"
    assert all(r.status == "succeeded" for r in runs.values()), [r.error for r in runs.values()]

    items = {i.key: i for i in gate.release_checklist(release)}
    assert items["smoke_starter_dialogues"].status == starter["status"]
    assert items["smoke_emergency_paraphrases"].status == paraphrases["status"]
    assert items["safety_recall"].evidence_url.endswith(f"/runs/{runs['safety'].pk}/")
    rate = runs["persona"].metrics["validation_rate"]
    assert items["validation"].status == ("pass" if rate > gate.VALIDATION_RATE else "fail")
    assert items["validation"].evidence_url.endswith(f"/runs/{runs['persona'].pk}/")
    assert items["filter_edge_cases"].status in ("pass", "fail")
    assert items["filter_edge_cases"].evidence_url.endswith(f"/runs/{runs['edge'].pk}/")

    # Run twice (a redelivered task): the finished result is kept, nothing runs again.
    assert smoke.release_smoke_tests_run(release_id=release.pk) == state
    assert EvaluationRun.objects.count() == 3

    client.force_login(admin_user)
    page = client.get(f"/models/releases/{release.pk}/").content.decode()
    assert 'data-testid="smoke-tests"' in page
    assert f"/evaluation/runs/{runs['persona'].pk}/" in page
    assert 'data-testid="check-smoke_starter_dialogues"' in page


def test_smoke_tests_are_pending_until_staging_and_a_failed_check_blocks_promotion(
    smoke_ready, admin_user
):
    live_release_adopt()
    safety = version_copy(smoke_ready["safety"], "safety-next", metrics={"high_recall": 0.99})
    draft = candidate(admin_user, "draft", safety_version=safety)
    items = {i.key: i for i in gate.release_checklist(draft)}
    assert items["smoke_starter_dialogues"].status == "pending"
    assert "enters staging" in items["validation"].detail
    release = release_promote(release_id=draft.pk, user=admin_user, from_stage="draft")
    assert release.smoke_tests["status"] == smoke.QUEUED  # the test's transaction never commits
    # The job's own checks, run here on the release's real safety model.
    classifier = get_classifier_for_version("safety", safety.pk)
    checks = {
        "starter_dialogues": smoke.starter_dialogues_check(classifier),
        "emergency_paraphrases": smoke.emergency_paraphrases_check(classifier),
    }
    checks["starter_dialogues"].update(status="fail", detail="1 of 83 flagged high")
    Release.objects.filter(pk=release.pk).update(
        smoke_tests={"status": smoke.DONE, "checks": checks, "runs": {"persona": "no set"}}
    )
    release.refresh_from_db()
    items = {i.key: i for i in gate.release_checklist(release)}
    assert items["smoke_starter_dialogues"].status == "fail"
    assert items["validation"].status == "pending" and items["validation"].detail == "no set"
    with pytest.raises(ApplicationError, match="Smoke test: no ordinary starter turn"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="staging")
