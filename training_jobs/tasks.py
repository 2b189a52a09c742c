"""Celery tasks of the training app (queue ``training``, routed in settings)."""

from __future__ import annotations

from celery import shared_task

from training_jobs.releases.services import release_monitor_run
from training_jobs.releases.smoke import release_smoke_tests_run
from training_jobs.services import training_job_run, training_jobs_reconcile


@shared_task(
    name="training_jobs.tasks.training_job_run_task",
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
    acks_late=True,
)
def training_job_run_task(job_id: int) -> str:
    """Run one training job. Idempotent: a job that already ran (or is running) is left alone."""
    return training_job_run(job_id=job_id).status


@shared_task(name="training_jobs.tasks.training_jobs_reconcile_task")
def training_jobs_reconcile_task() -> list[int]:
    """Re-queue training jobs that were never picked up or whose worker died."""
    return training_jobs_reconcile()


@shared_task(name="training_jobs.tasks.release_monitor_task", soft_time_limit=120, time_limit=150)
def release_monitor_task() -> dict:
    """Compare the canary arm with the control arm; roll back at once on a breach."""
    return release_monitor_run()


@shared_task(
    name="training_jobs.tasks.release_smoke_tests_task",
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    acks_late=True,
)
def release_smoke_tests_task(release_id: int) -> str:
    """The smoke tests of a release that entered staging. Safe to run twice."""
    return str(release_smoke_tests_run(release_id=release_id).get("status", ""))
