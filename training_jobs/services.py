"""Writes of the model registry: train a version, propose it as a release, run training jobs.

The ML itself lives in :mod:`training_jobs.ml` (no Django); these services add the database
labels, the model version row, the training gate and the job bookkeeping. A version reaches
users only through a release (:mod:`training_jobs.releases`, docs/releases.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.background_jobs import STUCK_AFTER, background_job_claim, background_job_progress
from ari_review.celery import task_enqueue_long
from training_jobs import selectors
from training_jobs.frozen_texts import training_rows_without_frozen
from training_jobs.ml.data import DatasetPaths
from training_jobs.ml.labels import BACKENDS, KINDS
from training_jobs.ml.train import TrainSettings, train_and_evaluate
from training_jobs.models import Backend, ModelKind, ModelVersion, TrainingJob
from training_jobs.releases.registry import model_version_activate
from training_jobs.releases.services import release_bootstrap, release_create
from training_jobs.reward import reward_model_train

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
RUN_TASK = "training_jobs.tasks.training_job_run_task"

GATE_HIGH_RECALL = 0.98
GATE_INTENT_ACCURACY = 0.85
# A running job whose heartbeat is older than this is considered stuck (worker died).
MAX_ATTEMPTS = 3

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class TrainResult:
    version: ModelVersion
    activated: bool
    activation_note: str


def _check_kind_backend(kind: str, backend: str) -> None:
    if kind == ModelKind.REWARD:
        if backend != Backend.BRADLEY_TERRY:
            raise ApplicationError(
                f"A reward model is trained with backend {Backend.BRADLEY_TERRY.value!r}."
            )
        return
    if kind not in KINDS:
        raise ApplicationError(
            f"Unknown classifier kind {kind!r}: choose one of {', '.join(KINDS)}."
        )
    if backend not in BACKENDS:
        raise ApplicationError(f"Unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}.")


def _version_name(kind: str, backend: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return f"{kind}-{backend}-{stamp}-{secrets.token_hex(2)}"


def model_version_train(
    *,
    kind: str,
    backend: str = "hybrid",
    activate: bool = False,
    created_by: User | None = None,
    use_database_labels: bool = True,
    train_settings: TrainSettings | None = None,
    progress: Progress | None = None,
    dataset_paths: DatasetPaths | None = None,
) -> TrainResult:
    """Train, evaluate on the frozen test split, store a version and, with ``activate``, propose
    it: a draft release (promoted by an admin through staging and canary), or, on a fresh
    install with no live release yet, the first release, put live by the system.

    Training takes minutes, so no transaction is held while it runs; the version row is
    written (and activated) atomically at the end.
    """
    _check_kind_backend(kind, backend)
    dataset_dir = getattr(settings, "TRAINING_DATASET_DIR", None)
    if dataset_paths is None and dataset_dir:
        # A different dataset directory (tests use a tiny one); same file names as shipped.
        root = Path(dataset_dir)
        dataset_paths = DatasetPaths(
            train=root / f"{kind}_train.jsonl", test=root / f"{kind}_test.jsonl"
        )
    database_rows = selectors.database_label_rows(kind=kind) if use_database_labels else []
    # The frozen test sets' texts never train (database rows dropped, shipped rows refused).
    database_rows = training_rows_without_frozen(
        kind=kind, database_rows=database_rows, paths=dataset_paths
    )
    extra = database_rows
    name = _version_name(kind, backend)
    artifact_root = Path(settings.MODEL_ARTIFACT_DIR)
    artifact_dir = artifact_root / name
    train_settings = train_settings or TrainSettings(
        gate_high_recall=GATE_HIGH_RECALL, gate_intent_accuracy=GATE_INTENT_ACCURACY
    )
    logger.info("training started kind=%s backend=%s version=%s", kind, backend, name)
    try:
        outcome = train_and_evaluate(
            kind=kind,
            backend=backend,
            out_dir=artifact_dir,
            version=name,
            paths=dataset_paths,
            extra_rows=extra,
            settings=train_settings,
            progress=progress,
        )
    except Exception:
        shutil.rmtree(artifact_dir, ignore_errors=True)
        raise
    with transaction.atomic():
        version = ModelVersion.objects.create(
            name=name,
            kind=kind,
            backend=backend,
            artifact_path=name,
            thresholds=outcome.thresholds,
            metrics=outcome.metrics,
            train_data_hash=outcome.train_data_hash,
            test_data_hash=outcome.test_data_hash,
            train_rows=outcome.train_rows,
            database_rows=len(database_rows),
            training_seconds=outcome.training_seconds,
            gate_passed=outcome.gate_passed,
            gate_reason=outcome.gate_reason,
            created_by=created_by,
        )
        activated, note = False, "not requested"
        if activate:
            if outcome.gate_passed:
                activated, note = _propose(version, created_by)
            else:
                note = f"not activated: {outcome.gate_reason}"
    logger.info("training finished version_id=%s activated=%s", version.pk, activated)
    return TrainResult(version=version, activated=activated, activation_note=note)


def reward_version_train(
    *,
    created_by: User | None = None,
    activate: bool = False,
    rows: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a reward model on the clinician preference pairs (``training_jobs.reward``) and
    activate it when asked and its gate holds (it then ranks replies where settings allow)."""
    version = reward_model_train(created_by=created_by, rows=rows, progress=progress)
    activated, note = False, "not requested"
    if activate:
        if version.gate_passed:
            model_version_activate(version=version, user=created_by)
            activated, note = True, "activated"
        else:
            note = f"not activated: {version.gate_reason}"
    return TrainResult(version=version, activated=activated, activation_note=note)


def reward_version_activate(*, version: ModelVersion, user: User | None) -> ModelVersion:
    """An admin confirmed a reward model version (its confirmation page): it ranks replies from
    now on. Classifier versions serve only through a release (promotion has its own page)."""
    if version.kind != ModelKind.REWARD:
        raise ApplicationError(
            f"{version.name} is a {version.kind} model: it reaches users through a release."
        )
    return model_version_activate(version=version, user=user)


def _propose(version: ModelVersion, user: User | None) -> tuple[bool, str]:
    """(activated, note) for a version that passed its gate."""
    field = "safety_version" if version.kind == "safety" else "intent_version"
    versions: dict[str, Any] = {field: version}
    first = release_bootstrap(**versions)
    if first is not None:
        return True, f"activated (first release {first.name}: no incumbent yet)"
    release = release_create(**versions, created_by=user)
    return False, f"release {release.name} drafted: promote it on the releases page"


def models_ensure_active(
    *, backend: str = "hybrid", log: Callable[[str], None] = print
) -> dict[str, str]:
    """Train a version of each kind that has no active one (or whose artifact is missing) and
    release them (idempotent): on a fresh install the system puts them live as the first
    release (audited ``release.bootstrap``: there is no incumbent to compare with); otherwise
    they wait in a draft release for an admin to promote.
    """
    results: dict[str, str] = {}
    trained: dict[str, Any] = {}
    for kind in KINDS:
        active = selectors.model_version_active_get(kind=kind)
        if active is not None and active.artifact_dir.is_dir():
            results[kind] = f"already active: {active.name}"
            log(f"{kind}: {results[kind]}")
            continue
        if active is not None:
            log(f"{kind}: active version {active.name} has no artifact at {active.artifact_dir}")
        log(f"{kind}: training a {backend} model (hybrid safety: about 10 minutes on two cores)")
        version = model_version_train(kind=kind, backend=backend).version
        if not version.gate_passed:
            results[kind] = f"{version.name}: not activated: {version.gate_reason}"
        else:
            trained[f"{kind}_version"] = version
            results[kind] = version.name
        log(f"{kind}: {results[kind]}")
    if trained:
        release = release_bootstrap(**trained)
        if release is not None:
            note = f"activated (first release {release.name}, put live by the system)"
        else:
            release = release_create(**trained)
            note = f"release {release.name} drafted: promote it on the releases page"
        for field, version in trained.items():
            results[field.removesuffix("_version")] = f"{version.name}: {note}"
        log(note)
    return results


# --- training jobs (Celery) --------------------------------------------------------------------
def training_job_create(
    *, kind: str, backend: str = "hybrid", activate: bool = False, created_by: User | None = None
) -> TrainingJob:
    _check_kind_backend(kind, backend)
    with transaction.atomic():
        job = TrainingJob.objects.create(
            kind=kind, backend=backend, activate=activate, created_by=created_by
        )
        audit_event_record(
            actor=created_by,
            action="training_job.create",
            obj=job,
            before=None,
            after={"kind": kind, "backend": backend, "activate": activate},
        )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    task_enqueue_long(RUN_TASK, args=(job_id,), queue="training")


def training_job_run(*, job_id: int, train_settings: TrainSettings | None = None) -> TrainingJob:
    """Run a queued job once. Safe to call twice: only a queued job (or a stuck one) starts."""
    job, claimed = background_job_claim(TrainingJob, job_id)
    if not claimed:
        return job
    logger.info("training job started job_id=%s attempt=%s", job.pk, job.attempts)
    try:
        if job.kind == ModelKind.REWARD:
            # A job never activates a reward model itself: the admin confirms it on its
            # confirmation page, the candidate beside the incumbent.
            result = reward_version_train(
                created_by=job.created_by,
                progress=background_job_progress(TrainingJob, job.pk),
            )
            if result.version.gate_passed:
                note = "passed its gate: confirm its activation on the version's page"
            else:
                note = f"not activated: {result.version.gate_reason}"
            result = TrainResult(result.version, False, note)
        else:
            result = model_version_train(
                kind=job.kind,
                backend=job.backend,
                activate=job.activate,
                created_by=job.created_by,
                train_settings=train_settings,
                progress=background_job_progress(TrainingJob, job.pk),
            )
    except Exception as exc:
        logger.exception("training job failed job_id=%s", job.pk)
        TrainingJob.objects.filter(pk=job.pk).update(
            status=TrainingJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    TrainingJob.objects.filter(pk=job.pk).update(
        model_version=result.version,
        activation_note=result.activation_note if job.activate else "",
        stage="done",
        progress=100,
        status=TrainingJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def training_jobs_reconcile() -> list[int]:
    """Re-queue jobs that never started or whose worker died; give up after a few attempts."""
    now = timezone.now()
    requeue: list[int] = []
    stale_queued = TrainingJob.objects.filter(
        status=TrainingJob.Status.QUEUED, created_at__lt=now - dt.timedelta(minutes=10)
    )
    stuck = TrainingJob.objects.filter(
        status=TrainingJob.Status.RUNNING, heartbeat_at__lt=now - STUCK_AFTER
    )
    for job in list(stale_queued) + list(stuck):
        if job.attempts >= MAX_ATTEMPTS:
            TrainingJob.objects.filter(pk=job.pk, status=job.status).update(
                status=TrainingJob.Status.FAILED,
                error=f"gave up after {job.attempts} attempts (worker stopped responding)",
                finished_at=now,
            )
            continue
        requeue.append(job.pk)
        _enqueue(job.pk)
    return requeue
