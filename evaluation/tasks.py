"""Periodic jobs of the evaluation app (scheduled in settings.CELERY_BEAT_SCHEDULE). Each calls
one service and is safe to run twice (upserts, idempotent queue refreshes)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from evaluation.selectors.agreement import agreement_figures_refresh
from evaluation.services import (
    alerts_evaluate,
    live_fn_sample_draw,
    metrics_compute,
    work_locks_release_expired,
    work_queues_refresh,
)
from evaluation.services.masking import work_item_masks_store


@shared_task(name="evaluation.tasks.metrics_compute_task", soft_time_limit=240, time_limit=300)
def metrics_compute_task(days: list[str] | None = None) -> int:
    """Recompute daily metric rows (the last few days by default; ISO dates to backfill)."""
    parsed = [date.fromisoformat(d) for d in days] if days else None
    return metrics_compute(days=parsed)


@shared_task(name="evaluation.tasks.review_locks_release_task")
def review_locks_release_task() -> int:
    """Delete expired queue locks (expiry is already enforced on read; this keeps it tidy)."""
    return work_locks_release_expired()


@shared_task(name="evaluation.tasks.work_queues_refresh_task", soft_time_limit=240, time_limit=300)
def work_queues_refresh_task() -> dict:
    """Queue sessions for review and the least certain messages for labelling."""
    return work_queues_refresh()


@shared_task(name="evaluation.tasks.agreement_refresh_task", soft_time_limit=120, time_limit=180)
def agreement_refresh_task() -> list[str]:
    """Recompute and store the agreement figures that the agreement pages read."""
    return agreement_figures_refresh()


@shared_task(name="evaluation.tasks.alerts_evaluate_task", soft_time_limit=120, time_limit=180)
def alerts_evaluate_task() -> dict:
    """Evaluate the monitoring rules (opens, refreshes and resolves alerts)."""
    return alerts_evaluate()


@shared_task(name="evaluation.tasks.live_fn_sample_task", soft_time_limit=240, time_limit=300)
def live_fn_sample_task() -> int:
    """Weekly: queue the blinded random sample of sessions scored none/low for labelling."""
    return live_fn_sample_draw()


@shared_task(
    name="evaluation.tasks.evaluation_run_task",
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
    acks_late=True,
)
def evaluation_run_task(run_id: int) -> str:
    """Run one evaluation run. Idempotent: a run that already ran (or is running) is left alone."""
    from evaluation.services.evaluation_runs import evaluation_run_execute

    return evaluation_run_execute(run_id=run_id).status


@shared_task(name="evaluation.tasks.evaluation_runs_reconcile_task")
def evaluation_runs_reconcile_task() -> list[int]:
    """Re-queue evaluation runs never picked up or whose worker died."""
    from evaluation.services.evaluation_runs import evaluation_runs_reconcile

    return evaluation_runs_reconcile()


@shared_task(
    name="evaluation.tasks.work_item_masks_store_task",
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def work_item_masks_store_task(item_ids: list[int]) -> int:
    """After an import: store the masked text of a batch of its items and queue the next batch
    (``work_item_masks_store``). Returns how many were masked now."""
    return work_item_masks_store(item_ids=item_ids)
