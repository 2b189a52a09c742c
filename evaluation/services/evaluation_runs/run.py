"""Execute a queued evaluation run once (safe to call twice), store every prediction and the
metrics, with progress on the run row; re-queue runs whose worker died."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from ari_review.audit import audit_event_record
from ari_review.background_jobs import STUCK_AFTER, background_job_claim, background_job_progress
from ari_review.celery import task_enqueue
from evaluation.models import EvaluationPrediction, EvaluationRun
from evaluation.services.evaluation_runs.classify import safety_correct, safety_predictions
from evaluation.services.evaluation_runs.create import RUN_TASK
from evaluation.services.evaluation_runs.generate import generation_correct, generation_predictions
from evaluation.services.evaluation_runs.scoring import generation_metrics, safety_metrics

if TYPE_CHECKING:
    from conversations.models import ChatSession
    from evaluation.models import FrozenSetItem

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def _claim(run_id: int) -> EvaluationRun | None:
    run, claimed = background_job_claim(EvaluationRun, run_id)
    return run if claimed else None


def _rank(run: EvaluationRun, items: list[FrozenSetItem], replies: list[str]) -> list[float | None]:
    """Each reply's reward under the run's reward model version (None without one)."""
    reward_version = run.reward_model_version
    if reward_version is None:
        return [None] * len(items)
    from training_jobs.ml.reward import RewardModel, context_text

    model = RewardModel.load(reward_version.artifact_dir)
    contexts = [
        context_text(
            [
                *({"role": "user", "content": h} for h in i.history or []),
                {"role": "user", "content": i.text},
            ]
        )
        for i in items
    ]
    return [round(float(x), 4) for x in model.score(contexts, replies)]


def _evaluate(run: EvaluationRun, report: Callable[[str, int], None]) -> dict[str, Any]:
    items = list(run.frozen_set.items.select_related("frozen_set").order_by("position"))
    if run.model_version is not None and run.model_version.kind == "safety":
        predicted, latencies = safety_predictions(run, items, report)
        replies: list[str] = [""] * len(items)
        sessions: Sequence[ChatSession | None] = [None] * len(items)
        correct: list[bool | None] = [
            safety_correct(i, p) for i, p in zip(items, predicted, strict=True)
        ]
        rewards: list[float | None] = [None] * len(items)
        metrics_of: Callable[[], dict[str, Any]] = lambda: safety_metrics(items, predicted)  # noqa: E731
    else:
        predicted, latencies, replies, sessions = generation_predictions(run, items, report)
        correct = [generation_correct(i, p) for i, p in zip(items, predicted, strict=True)]
        report("ranking replies", 88)
        rewards = _rank(run, items, replies)
        for p, r in zip(predicted, rewards, strict=True):
            if r is not None:
                p["reward"] = r
        metrics_of = lambda: generation_metrics(items, predicted, latencies)  # noqa: E731
    report("storing predictions", 92)
    with transaction.atomic():
        EvaluationPrediction.objects.filter(run=run).delete()  # a retried run starts clean
        EvaluationPrediction.objects.bulk_create(
            [
                EvaluationPrediction(
                    run=run,
                    item=item,
                    predicted=p,
                    correct=ok,
                    reply_text=reply,
                    latency_ms=round(ms, 3),
                    reward=reward,
                    session=session,
                )
                for item, p, ok, reply, ms, reward, session in zip(
                    items, predicted, correct, replies, latencies, rewards, sessions, strict=True
                )
            ],
            batch_size=500,
        )
    metrics = metrics_of()
    metrics["frozen_set"] = {
        "kind": run.frozen_set.kind,
        "version": run.frozen_set.version,
        "content_hash": run.frozen_set.content_hash,
    }
    return metrics


def evaluation_run_execute(*, run_id: int) -> EvaluationRun:
    """Run a queued run (or a stuck one); any other is returned as it is."""
    run = _claim(run_id)
    if run is None:
        return EvaluationRun.objects.get(pk=run_id)
    logger.info("evaluation run started run_id=%s attempt=%s", run.pk, run.attempts)
    try:
        metrics = _evaluate(run, background_job_progress(EvaluationRun, run.pk))
    except Exception as exc:
        logger.exception("evaluation run failed run_id=%s", run.pk)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=EvaluationRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run
    EvaluationRun.objects.filter(pk=run.pk).update(
        metrics=metrics,
        stage="done",
        progress=100,
        status=EvaluationRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    audit_event_record(
        actor=None,
        action="evaluation_run.finish",
        obj=run,
        after={
            "status": run.status,
            "safety_recall": metrics.get("safety_recall"),
            "validation_rate": metrics.get("validation_rate"),
        },
    )
    logger.info("evaluation run finished run_id=%s", run.pk)
    return run


def evaluation_runs_reconcile() -> list[int]:
    """Re-queue runs never picked up or whose worker died; give up after a few attempts."""
    now = timezone.now()
    requeue = []
    stale = EvaluationRun.objects.filter(
        status=EvaluationRun.Status.QUEUED, created_at__lt=now - dt.timedelta(minutes=10)
    )
    stuck = EvaluationRun.objects.filter(
        status=EvaluationRun.Status.RUNNING, heartbeat_at__lt=now - STUCK_AFTER
    )
    for run in [*stale, *stuck]:
        if run.attempts >= MAX_ATTEMPTS:
            EvaluationRun.objects.filter(pk=run.pk, status=run.status).update(
                status=EvaluationRun.Status.FAILED,
                error=f"gave up after {run.attempts} attempts (worker stopped responding)",
                finished_at=now,
            )
            continue
        requeue.append(run.pk)
        task_enqueue(RUN_TASK, args=(run.pk,), queue="training")
    return requeue
