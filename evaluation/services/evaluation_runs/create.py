"""Queue an evaluation run (checked, audited; the Celery task is enqueued on commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.celery import task_enqueue
from evaluation.models import EvaluationRun, FrozenSet, FrozenSetKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Manager

RUN_TASK = "evaluation.tasks.evaluation_run_task"
GENERATORS = ("composed", "approved", "openai", "transformers")
# What each target may be run on.
CLASSIFIER_SETS = {"safety": (FrozenSetKind.SAFETY, FrozenSetKind.EDGE)}
GENERATION_SETS = (FrozenSetKind.PERSONA, FrozenSetKind.EDGE)


def _model_versions() -> Manager[Any]:
    """The model registry's manager, reached through the run's foreign key (the registry sits on
    the floor above; nothing here imports it)."""
    # training_jobs.ModelVersion: not imported (a floor above), so its type is not known here.
    model: Any = EvaluationRun._meta.get_field("model_version").related_model
    manager: Manager[Any] = model.objects
    return manager


def _check(
    frozen_set: FrozenSet, model_version: Any, generation_config: dict[str, Any], reward: Any
) -> None:
    if not frozen_set.is_frozen:
        raise ApplicationError(
            f"Frozen set {frozen_set.kind} v{frozen_set.version} is a draft: freeze it first."
        )
    if model_version is not None and model_version.kind == "safety":
        if generation_config:
            raise ApplicationError("A safety model version is run on its own, without a generator.")
        if frozen_set.kind not in CLASSIFIER_SETS["safety"]:
            raise ApplicationError(
                f"A safety model version runs on the safety or edge set, not {frozen_set.kind}."
            )
    elif model_version is not None and model_version.kind not in ("intent",):
        raise ApplicationError(
            f"Model version {model_version.name} ({model_version.kind}) cannot be evaluated here: "
            "choose a safety or intent version (a reward version ranks the replies of a run)."
        )
    else:
        # A generation run (with the active classifiers, or with this intent version).
        generator = (generation_config or {}).get("generator", "")
        if generator not in GENERATORS:
            raise ApplicationError(
                f"Generation runs need generation_config.generator, one of {', '.join(GENERATORS)}."
            )
        if frozen_set.kind not in GENERATION_SETS:
            raise ApplicationError(
                f"Replies are generated on the persona or edge set, not {frozen_set.kind}."
            )
    if reward is not None and reward.kind != "reward":
        raise ApplicationError(f"Model version {reward.name} is not a reward model.")


def evaluation_run_create(
    *,
    frozen_set: FrozenSet,
    model_version_id: int | None = None,
    generation_config: dict[str, Any] | None = None,
    reward_model_version_id: int | None = None,
    created_by: User | None = None,
) -> EvaluationRun:
    versions = _model_versions()
    model_version = reward = None
    if model_version_id is not None:
        model_version = versions.filter(pk=model_version_id).first()
        if model_version is None:
            raise ApplicationError(f"Model version {model_version_id} does not exist.")
    if reward_model_version_id is not None:
        reward = versions.filter(pk=reward_model_version_id).first()
        if reward is None:
            raise ApplicationError(f"Model version {reward_model_version_id} does not exist.")
    config = {k: v for k, v in (generation_config or {}).items() if v not in (None, "")}
    _check(frozen_set, model_version, config, reward)
    with transaction.atomic():
        run = EvaluationRun.objects.create(
            frozen_set=frozen_set,
            model_version=model_version,
            generation_config=config,
            reward_model_version=reward,
            created_by=created_by,
        )
        audit_event_record(
            actor=created_by,
            action="evaluation_run.create",
            obj=run,
            after={
                "frozen_set": f"{frozen_set.kind} v{frozen_set.version}",
                "content_hash": frozen_set.content_hash,
                "model_version": model_version.name if model_version else None,
                "generation_config": config,
                "reward_model_version": reward.name if reward else None,
            },
        )
    transaction.on_commit(lambda: task_enqueue(RUN_TASK, args=(run.pk,), queue="training"))
    return run
