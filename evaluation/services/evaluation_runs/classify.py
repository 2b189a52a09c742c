"""Score every item of a frozen set with one safety model version (the served decision: model,
stored thresholds and the rule safety net), in batches, with progress."""

from __future__ import annotations

import time

from training_jobs.ml.predictors import load_predictor

BATCH = 25


def safety_predictions(run, items: list, report) -> tuple[list[dict], list[float]]:
    predictor = load_predictor(run.model_version.artifact_dir, version=run.model_version.name)
    predicted, latencies = [], []
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


def safety_correct(item, prediction: dict) -> bool:
    """Right about what matters: a high item flagged high, any other item not flagged high."""
    return (item.expected.get("risk_level") == "high") == (prediction["level"] == "high")
