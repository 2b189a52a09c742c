"""python manage.py run_evaluation --set safety|persona|edge (--model-version NAME | --generator
composed|approved|...) [--reward-version NAME] [--queue]

Runs a model version or a generation configuration on the newest frozen version of a set and
prints its headline figures; ``--queue`` leaves it to the Celery worker instead. Audited.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ari_review.api.errors import ApplicationError
from evaluation.models import EvaluationRun, FrozenSetKind
from evaluation.selectors.evaluation_runs import COMPARED, metric_get
from evaluation.selectors.frozen_sets import frozen_set_latest
from evaluation.services.evaluation_runs import evaluation_run_create, evaluation_run_execute


def _version_id(name: str | None) -> int | None:
    if not name:
        return None
    # training_jobs.ModelVersion: not imported (a floor above), so its type is not known here.
    model: Any = EvaluationRun._meta.get_field("model_version").related_model
    versions = model.objects
    version = versions.filter(name=name).first() or (
        versions.filter(pk=int(name)).first() if name.isdigit() else None
    )
    if version is None:
        raise CommandError(f"no model version {name!r}")
    return version.pk


class Command(BaseCommand):
    help = "Run a model version or a generation configuration on a frozen test set."

    def add_arguments(self, parser):
        parser.add_argument("--set", dest="kind", choices=FrozenSetKind.values, required=True)
        parser.add_argument("--model-version", help="name or id of a safety or intent version")
        parser.add_argument("--generator", help="reply backend of a generation run")
        parser.add_argument("--reward-version", help="reward model version ranking the replies")
        parser.add_argument("--queue", action="store_true", help="queue it for the worker")
        parser.add_argument("--json", action="store_true", help="print the metrics as JSON")

    def handle(self, *args, kind, model_version, generator, reward_version, queue, **options):
        frozen = frozen_set_latest(kind=kind)
        if frozen is None:
            raise CommandError(f"no frozen {kind} set: run `manage.py frozen_sets load-starter`")
        try:
            with transaction.atomic():
                run = evaluation_run_create(
                    frozen_set=frozen,
                    model_version_id=_version_id(model_version),
                    generation_config={"generator": generator} if generator else {},
                    reward_model_version_id=_version_id(reward_version),
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if queue:
            self.stdout.write(f"queued evaluation run {run.pk}")
            return
        run = evaluation_run_execute(run_id=run.pk)
        if run.status != EvaluationRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")
        if options["json"]:
            self.stdout.write(json.dumps(run.metrics, indent=2, sort_keys=True))
            return
        self.stdout.write(f"run {run.pk}: {run.target_label} on {kind} v{frozen.version}")
        for key, label in COMPARED:
            value = metric_get(run.metrics, key)
            if value is not None:
                self.stdout.write(f"  {label:<32} {value}")
