"""Rows that track a background job run by a Celery worker (a training job, an evaluation run):
``status`` (queued / running / ...), ``stage``, ``progress``, ``error``, ``attempts``,
``started_at`` and ``heartbeat_at``. One claim and one progress reporter for all of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

QUEUED, RUNNING = "queued", "running"
# A running job whose worker has not reported for this long is taken as dead (re-claimable).
STUCK_AFTER = dt.timedelta(minutes=30)

M = TypeVar("M", bound=models.Model)

_CLAIM_FIELDS = ["status", "stage", "progress", "error", "attempts", "started_at", "heartbeat_at"]


def background_job_claim(model: type[M], pk: int) -> tuple[M, bool]:
    """Lock the row and start it when it is queued (or running but stuck). Returns
    ``(row, claimed)``: a row already running or finished is returned unchanged, not claimed,
    so calling twice runs the job once."""
    now = timezone.now()
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=pk)
        row: Any = locked  # the job fields every such model has
        stuck = (
            row.status == RUNNING
            and row.heartbeat_at is not None
            and row.heartbeat_at < now - STUCK_AFTER
        )
        if row.status != QUEUED and not stuck:
            return locked, False
        row.status = RUNNING
        row.stage, row.progress, row.error = "starting", 0, ""
        row.attempts += 1
        row.started_at = row.heartbeat_at = now
        row.save(update_fields=_CLAIM_FIELDS)
    return locked, True


def background_job_progress(model: type[models.Model], pk: int) -> Callable[[str, int], None]:
    """A ``report(stage, percent)`` that writes the stage, progress and heartbeat, only when
    either changed (percent clamped to 0-100)."""
    last: dict[str, Any] = {"percent": -1, "stage": ""}

    def report(stage: str, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        if percent == last["percent"] and stage == last["stage"]:
            return
        last.update(percent=percent, stage=stage)
        model._default_manager.filter(pk=pk).update(
            stage=stage[:80], progress=percent, heartbeat_at=timezone.now()
        )

    return report
