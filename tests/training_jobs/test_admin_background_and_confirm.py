"""Admin pages (#18): training starts in the background (in-process mode, the quick start,
included: the request returns while the job runs), two versions side by side, and a reward
model's activation only through its confirmation page, candidate beside incumbent."""

from __future__ import annotations

import threading

from django.urls import reverse

from ari_review.celery import app, task_enqueue_long
from tests.conftest import celery_eager, client_for
from tests.training_jobs.test_reward_model import judged  # noqa: F401 - pytest fixture
from training_jobs.models import ModelVersion, TrainingJob
from training_jobs.services import reward_version_train, training_job_create, training_job_run

STARTED, RELEASE, FINISHED = threading.Event(), threading.Event(), threading.Event()
BLOCKING = "tests.training_jobs.test_admin_background_and_confirm.blocking_task"


@app.task(name=BLOCKING)
def blocking_task() -> None:
    STARTED.set()
    RELEASE.wait(timeout=60)
    FINISHED.set()


def test_in_process_mode_runs_a_long_task_beside_the_caller():
    for event in (STARTED, RELEASE, FINISHED):
        event.clear()
    with celery_eager(True):  # no broker: the quick start
        thread = task_enqueue_long(BLOCKING)
    # The caller is back while the task is still waiting to be released.
    assert thread is not None and thread.daemon
    assert STARTED.wait(timeout=120), f"task thread alive: {thread.is_alive()}"
    assert not FINISHED.is_set() and thread.is_alive()
    RELEASE.set()
    thread.join(timeout=30)
    assert FINISHED.is_set() and not thread.is_alive()


def test_starting_training_from_the_page_returns_the_job_page_with_its_progress_bar(db, admin_user):
    client = client_for(admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("training_jobs:job-start"), {"kind": "intent", "backend": "linear"}
    )
    job = TrainingJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("training_jobs:job-detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert '<progress max="100" value="0"' in page and 'data-finished="0"' in page
    assert "training_poll.js" in page  # the bar follows the job without a reload


def test_a_reward_version_is_activated_only_through_its_confirmation_page(
    db,
    judged,  # noqa: F811
    admin_user,
    client,
):
    job = training_job_create(kind="reward", backend="bt", activate=True, created_by=admin_user)
    job = training_job_run(job_id=job.pk)
    first = ModelVersion.objects.get(pk=job.model_version_id)
    assert first.gate_passed and not first.is_active  # the job itself activated nothing
    assert "confirm its activation" in job.activation_note
    client.force_login(admin_user)

    confirm = client.get(reverse("training_jobs:model-activate", args=[first.pk]))
    assert confirm.status_code == 200
    assert f"Activate {first.name}?" in confirm.content.decode()
    client.post(reverse("training_jobs:model-activate", args=[first.pk]))
    first.refresh_from_db()
    assert first.is_active

    second = reward_version_train(created_by=admin_user).version
    page = client.get(reverse("training_jobs:model-activate", args=[second.pk])).content.decode()
    assert f"{first.name} (incumbent)" in page and f"{second.name} (candidate)" in page
    assert "Pairwise accuracy" in page and "Training rows" in page
    second.refresh_from_db()
    assert not second.is_active  # a GET never activates

    compare = client.get(
        reverse("training_jobs:model-compare"), {"a": second.pk, "b": first.pk}
    ).content.decode()
    assert 'data-testid="version-compare"' in compare
    assert "Frozen test data sha256" in compare and "Thresholds" not in compare.split("<tbody>")[0]


def test_a_classifier_version_is_not_activated_from_its_page(db, admin_user, client):
    version = ModelVersion.objects.create(
        name="intent-x", kind="intent", backend="linear", train_data_hash="a", test_data_hash="b"
    )
    client.force_login(admin_user)
    response = client.post(reverse("training_jobs:model-activate", args=[version.pk]))
    assert response.status_code == 302
    version.refresh_from_db()
    assert not version.is_active
    gets = client.get(reverse("training_jobs:model-activate", args=[version.pk]))
    assert gets["Location"] == reverse("training_jobs:release-list")
