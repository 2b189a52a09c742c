"""Evaluation runs: a model version or a generation configuration on a frozen set, as a Celery
job with progress. ``create`` queues one (audited); ``run`` executes it once, safely twice;
``classify`` scores a safety model version; ``generate`` plays the set through the real chat
turn; ``scoring`` turns predictions into metrics."""

from evaluation.services.evaluation_runs.create import evaluation_run_create
from evaluation.services.evaluation_runs.run import (
    evaluation_run_execute,
    evaluation_runs_reconcile,
)

__all__ = ["evaluation_run_create", "evaluation_run_execute", "evaluation_runs_reconcile"]
