"""Trained classifiers for tests of any app.

Usage (in a conftest.py or test module)::

    from tests.training_jobs.fixtures import activate_trained_models, trained_models  # noqa: F401

    @pytest.fixture
    def active_models(db, trained_models):
        # {"safety": ModelVersion, "intent": ModelVersion}
        return activate_trained_models(trained_models)

``trained_models`` is session-scoped: linear safety and intent models are trained once per test
session from the shipped datasets into a temporary directory (about 10-15 s on two cores).
``activate_trained_models`` creates *active* ``ModelVersion`` rows pointing at those artifacts in
the current test database (it bypasses the activation gate: it is a test helper), so
``get_safety_classifier()`` / ``get_intent_classifier()`` and the classify commands work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from training_jobs.ml.train import TrainOutcome, TrainSettings, train_and_evaluate

SAFETY_VERSION = "test-safety-linear"
INTENT_VERSION = "test-intent-linear"


@dataclass(frozen=True)
class TrainedModels:
    safety: TrainOutcome
    intent: TrainOutcome

    @property
    def base_dir(self) -> Path:
        return self.safety.artifact_dir.parent


def fast_settings() -> TrainSettings:
    """Linear training without the 5-fold threshold search and without latency sampling, on the
    shipped rows only (the same models whether ../shared/data is present or not)."""
    return TrainSettings(cv_folds=0, refit_on_all=False, latency_samples=0, esconv_intent=False)


def train_linear_models(base_dir: Path) -> TrainedModels:
    settings = fast_settings()
    safety = train_and_evaluate(
        kind="safety",
        backend="linear",
        out_dir=base_dir / SAFETY_VERSION,
        version=SAFETY_VERSION,
        settings=settings,
    )
    intent = train_and_evaluate(
        kind="intent",
        backend="linear",
        out_dir=base_dir / INTENT_VERSION,
        version=INTENT_VERSION,
        settings=settings,
    )
    return TrainedModels(safety=safety, intent=intent)


_TRAINED: list[TrainedModels] = []  # one training per test process, however often it is imported


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> TrainedModels:
    if not _TRAINED:
        _TRAINED.append(train_linear_models(tmp_path_factory.mktemp("trained_models")))
    return _TRAINED[0]


def activate_trained_models(trained: TrainedModels) -> dict:
    """Create active ModelVersion rows for ``trained`` in the current test database."""
    from training_jobs.models import ModelVersion

    versions = {}
    for kind, outcome in (("safety", trained.safety), ("intent", trained.intent)):
        ModelVersion.objects.filter(kind=kind, is_active=True).update(is_active=False)
        versions[kind], _ = ModelVersion.objects.update_or_create(
            name=outcome.manifest["version"],
            defaults={
                "kind": kind,
                "backend": outcome.backend,
                "artifact_path": str(outcome.artifact_dir.resolve()),
                "thresholds": outcome.thresholds,
                "metrics": outcome.metrics,
                "train_data_hash": outcome.train_data_hash,
                "test_data_hash": outcome.test_data_hash,
                "train_rows": outcome.train_rows,
                "training_seconds": outcome.training_seconds,
                "gate_passed": outcome.gate_passed,
                "gate_reason": outcome.gate_reason,
                "is_active": True,
            },
        )
    return versions


def safety_version_copy(trained: TrainedModels, name: str, *, is_active: bool = False):
    """Another safety ``ModelVersion`` row serving ``trained``'s safety artifact."""
    from training_jobs.models import ModelVersion

    return ModelVersion.objects.create(
        name=name,
        kind="safety",
        backend="linear",
        artifact_path=str(trained.safety.artifact_dir),
        thresholds=trained.safety.thresholds,
        train_data_hash="x",
        test_data_hash="y",
        gate_passed=True,
        is_active=is_active,
    )


class FixedRiskModel:
    """A stand-in safety model that gives every segment the same P(high) (and P(medium)), to
    test the decision policy around a model (thresholds, band, judge, confidence); the message
    read with its history may get another P(high) (``context_p_high``)."""

    def __init__(self, p_high: float, p_medium: float = 0.0, context_p_high: float | None = None):
        from training_jobs.ml.labels import RISK_CATEGORIES, RISK_LEVELS

        self.heads = {"level": RISK_LEVELS, "category": RISK_CATEGORIES}
        self.level = self._levels(p_high, p_medium)
        self.context_level = self._levels(
            p_high if context_p_high is None else context_p_high, p_medium
        )

    @staticmethod
    def _levels(p_high: float, p_medium: float) -> list[float]:
        return [1.0 - p_high - p_medium, 0.0, p_medium, p_high]

    def predict_proba(self, texts):
        import numpy as np

        from training_jobs.ml.text import CONTEXT_SEPARATOR

        return {
            "level": np.array(
                [self.context_level if CONTEXT_SEPARATOR in t else self.level for t in texts]
            ),
            "category": np.tile([0.7, 0.1, 0.1, 0.1], (len(texts), 1)),
        }
