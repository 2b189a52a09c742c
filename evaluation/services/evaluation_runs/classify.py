"""Score every item of a frozen set with one safety model version (the served decision: model,
stored thresholds and the rule safety net), in batches, with progress."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from ari_review.api.errors import ApplicationError
from training_jobs.ml.predictors import SafetyPredictor, load_predictor

if TYPE_CHECKING:
    from collections.abc import Callable

    from evaluation.models import EvaluationRun, FrozenSetItem

BATCH = 25


def safety_predictions(
    run: EvaluationRun, items: list[FrozenSetItem], report: Callable[[str, int], None]
) -> tuple[list[dict[str, Any]], list[float]]:
    version = run.model_version
    if version is None:
        raise ApplicationError(
            f"Evaluation run {run.pk} has no safety model version to score with."
        )
    # A safety version: the run's caller checked its kind.
    predictor = cast(SafetyPredictor, load_predictor(version.artifact_dir, version=version.name))
    predicted: list[dict[str, Any]] = []
    latencies: list[float] = []
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        began = time.perf_counter()
        assessed = predictor.assess_many([(i.text, tuple(i.history or ())) for i in batch])
        per_item = (time.perf_counter() - began) * 1000.0 / max(1, len(batch))
        for assessment in assessed:
            predicted.append(
                {
                    "level": assessment.level,
                    "category": assessment.category,
                    "score": round(float(assessment.score), 6),
                    "rule_hits": list(assessment.rule_hits),
                }
            )
            latencies.append(per_item)
        report(
            f"scoring {min(len(items), start + BATCH)} of {len(items)}",
            5 + 85 * (start + len(batch)) // len(items),
        )
    return predicted, latencies


def safety_correct(item: FrozenSetItem, prediction: dict[str, Any]) -> bool:
    """Right about what matters: a high item flagged high, any other item not flagged high."""
    return bool((item.expected.get("risk_level") == "high") == (prediction["level"] == "high"))
