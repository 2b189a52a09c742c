"""python manage.py ensure_models: an active safety and intent model, trained now if needed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from training_jobs.ml.labels import BACKENDS
from training_jobs.services import models_ensure_active


class Command(BaseCommand):
    help = (
        "Make sure a safety and an intent model version are active: trains and activates a version "
        "(hybrid by default) of each kind that has none (or whose artifact is missing). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backend", choices=BACKENDS, default="hybrid")

    def handle(self, *args, backend, **options):
        results = models_ensure_active(backend=backend, log=self.stdout.write)
        missing = [k for k, note in results.items() if "not activated" in note]
        if missing:
            raise CommandError(f"no active model for: {', '.join(missing)} (see above)")
