"""Model registry API and pages (admins only), and training jobs on a real Celery worker."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from tests.conftest import client_for
from training_jobs.ml.train import TrainSettings
from training_jobs.models import ModelVersion, TrainingJob
from training_jobs.services import training_job_create, training_job_run, training_jobs_reconcile

FAST = TrainSettings(cv_folds=2, latency_samples=0, gate_high_recall=0.0, gate_intent_accuracy=0.0)


@pytest.mark.parametrize(
    "url_name, args, method",
    [
        ("api-model-versions", [], "get"),
        ("api-model-version-detail", [1], "get"),
        ("api-releases", [], "get"),
        ("api-release-create", [], "post"),
        ("api-release-detail", [1], "get"),
        ("api-release-promote", [1], "post"),
        ("api-release-rollback", [1], "post"),
        ("api-release-alert-acknowledge", [1], "post"),
        ("api-training-jobs", [], "get"),
        ("api-training-job-create", [], "post"),
        ("api-training-job-detail", [1], "get"),
    ],
)
def test_registry_api_is_admin_only(url_name, args, method, enduser, clinician, api_client):
    url = reverse(url_name, args=args)
    assert getattr(api_client, method)(url).status_code in (401, 403)
    for user in (enduser, clinician):
        assert getattr(client_for(user), method)(url).status_code == 403


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("training_jobs:model-list", []),
        ("training_jobs:model-detail", [1]),
        ("training_jobs:job-detail", [1]),
        ("training_jobs:release-list", []),
        ("training_jobs:release-detail", [1]),
        ("training_jobs:release-promote", [1]),
        ("training_jobs:release-rollback", [1]),
    ],
)
def test_registry_pages_are_admin_only(url_name, args, client, enduser, clinician):
    url = reverse(url_name, args=args)
    assert client.get(url).status_code == 302  # to login
    for user in (enduser, clinician):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_model_pages_show_versions_metrics_and_activation(active_models, admin_user, client):
    client.force_login(admin_user)
    page = client.get(reverse("training_jobs:model-list"))
    assert page.status_code == 200
    assert active_models["safety"].name in page.content.decode()
    detail = client.get(reverse("training_jobs:model-detail", args=[active_models["safety"].pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert (
        'data-testid="confusion"' in body
        and "High-risk recall" in body
        and "Rule net alone" in body
    )


def test_api_lists_and_details_versions(active_models, admin_user):
    api = client_for(admin_user)
    listed = api.get(reverse("api-model-versions"), {"kind": "intent"}).json()
    assert [v["name"] for v in listed["results"]] == [active_models["intent"].name]
    detail = api.get(reverse("api-model-version-detail", args=[active_models["safety"].pk])).json()
    assert detail["metrics"]["levels"]["confusion_matrix"]["labels"] == [
        "none",
        "low",
        "medium",
        "high",
    ]
    assert "high" in detail["thresholds"]


def test_api_refuses_to_stage_a_release_of_a_version_below_the_gate(active_models, admin_user):
    failing = ModelVersion.objects.create(
        name="weak",
        kind="safety",
        backend="linear",
        artifact_path="weak",
        train_data_hash="a",
        test_data_hash="b",
        gate_passed=False,
        gate_reason="high-risk recall 0.900 is below the required 0.98",
    )
    api = client_for(admin_user)
    created = api.post(reverse("api-release-create"), {"safety_version": failing.pk}, format="json")
    assert created.status_code == 201, created.content
    response = api.post(
        reverse("api-release-promote", args=[created.json()["id"]]),
        {"from_stage": "draft"},
        format="json",
    )
    assert response.status_code == 400
    assert "below the required 0.98" in response.json()["detail"]
    assert ModelVersion.objects.get(kind="safety", is_active=True).pk == active_models["safety"].pk


def test_training_job_runs_once_with_progress_and_links_its_version(tiny_dataset, db, admin_user):
    job = TrainingJob.objects.create(
        kind="intent", backend="linear", activate=True, created_by=admin_user
    )
    seen = []
    from training_jobs import services

    real = services.background_job_progress

    def spy(model, job_id):
        report = real(model, job_id)

        def wrapped(stage, percent):
            report(stage, percent)
            row = TrainingJob.objects.get(pk=job_id)
            seen.append((row.stage, row.progress))

        return wrapped

    services.background_job_progress = spy
    try:
        training_job_run(job_id=job.pk, train_settings=FAST)
    finally:
        services.background_job_progress = real
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.SUCCEEDED and job.progress == 100
    assert job.model_version is not None and job.model_version.is_active
    # a fresh install: the first release goes live at once (no incumbent to compare with)
    assert job.activation_note.startswith("activated (first release")
    assert [p for _, p in seen] == sorted(p for _, p in seen)
    assert {"loading data", "training", "evaluating on frozen test split"} <= {s for s, _ in seen}
    # running it again is a no-op
    again = training_job_run(job_id=job.pk, train_settings=FAST)
    assert again.attempts == 1 and ModelVersion.objects.count() == 1


def test_failed_training_job_keeps_the_error(db, settings, tmp_path):
    settings.TRAINING_DATASET_DIR = tmp_path  # no dataset files there
    job = TrainingJob.objects.create(kind="safety", backend="linear")
    training_job_run(job_id=job.pk, train_settings=FAST)
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.FAILED
    assert "dataset file not found" in job.error and str(tmp_path) in job.error


def test_reconcile_requeues_stuck_jobs_and_gives_up_after_three_attempts(db, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    queued = []
    monkeypatch.setattr("training_jobs.services._enqueue", queued.append)
    old = timezone.now() - timedelta(hours=2)
    stuck = TrainingJob.objects.create(
        kind="safety", status="running", heartbeat_at=old, attempts=1
    )
    dead = TrainingJob.objects.create(kind="safety", status="running", heartbeat_at=old, attempts=3)
    assert training_jobs_reconcile() == [stuck.pk]
    assert queued == [stuck.pk]
    dead.refresh_from_db()
    assert dead.status == TrainingJob.Status.FAILED


@pytest.mark.celery_worker
def test_training_job_created_through_the_api_runs_on_the_training_queue(
    celery_worker, tiny_dataset, admin_user, client
):
    api = client_for(admin_user)
    response = api.post(
        reverse("api-training-job-create"), {"kind": "intent", "backend": "linear"}, format="json"
    )
    assert response.status_code == 201
    job_id = response.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = api.get(reverse("api-training-job-detail", args=[job_id])).json()
        if state["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert state["status"] == "succeeded", state["error"]
    assert state["progress"] == 100 and state["model_version_id"]
    client.force_login(admin_user)
    page = client.get(reverse("training_jobs:model-detail", args=[state["model_version_id"]]))
    assert 'data-testid="job-progress"' in page.content.decode()
    assert f"Job #{job_id}" in page.content.decode()


def test_training_job_create_rejects_an_unknown_backend(db):
    from ari_review.api.errors import ApplicationError

    with pytest.raises(ApplicationError, match="Unknown backend"):
        training_job_create(kind="safety", backend="gpt")
