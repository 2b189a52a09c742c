"""Reads of evaluation runs: lists, one run, its misses (masked text), two runs side by side,
and the latest finished run of a model version on a frozen set kind (the release gate's read)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ari_review.privacy.masking import mask_text
from evaluation.models import EvaluationPrediction, EvaluationRun

# The headline figures compared side by side (missing ones show as "-").
COMPARED = (
    ("safety_recall", "Safety recall (high)"),
    ("false_positive_rate", "False-positive rate (high)"),
    ("edge_cases_high_rate", "Edge cases flagged high"),
    ("misses", "Missed high-risk items"),
    ("false_alarms", "False alarms"),
    ("validation_rate", "Validation rate"),
    ("filter_hit_rate", "Filter hit rate"),
    ("emergency_replies", "Emergency replies"),
    ("latency.p50_ms", "Latency p50 (ms)"),
    ("latency.p95_ms", "Latency p95 (ms)"),
    ("latency.p99_ms", "Latency p99 (ms)"),
    ("reward_mean", "Mean reward"),
)


def _base() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related(
        "frozen_set", "model_version", "reward_model_version", "created_by"
    )


def evaluation_run_list(*, limit: int = 50) -> list[EvaluationRun]:
    return list(_base().defer("metrics").order_by("-created_at", "-id")[:limit])


def evaluation_run_get(*, run_id: int) -> EvaluationRun | None:
    return _base().filter(pk=run_id).first()


def latest_run_for(model_version: Any, frozen_set_kind: str) -> EvaluationRun | None:
    """The newest succeeded run of ``model_version`` (a ModelVersion or its id) on a frozen set
    of ``frozen_set_kind``, with its ``metrics`` (None when there is none)."""
    version_id = getattr(model_version, "pk", model_version)
    return (
        _base()
        .filter(
            model_version_id=version_id,
            frozen_set__kind=frozen_set_kind,
            status=EvaluationRun.Status.SUCCEEDED,
        )
        .order_by("-finished_at", "-id")
        .first()
    )


def metric_get(metrics: dict[str, Any], dotted: str) -> Any:
    value: Any = metrics or {}
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def evaluation_run_misses(*, run: EvaluationRun, limit: int = 500) -> list[dict[str, Any]]:
    """The items the run got wrong, masked: ``{"item", "stratum", "expected", "predicted",
    "text", "reply"}`` (a persona miss is a reply that does not validate)."""
    wrong = (
        EvaluationPrediction.objects.filter(run=run, correct=False)
        .select_related("item")
        .order_by("item__position")[:limit]
    )
    return [
        {
            "item": p.item.external_id,
            "stratum": p.item.stratum,
            "expected": p.item.expected,
            "predicted": p.predicted,
            "text": mask_text(p.item.text),
            "history": [mask_text(h) for h in p.item.history or []],
            "reply": mask_text(p.reply_text),
            "reward": p.reward,
        }
        for p in wrong
    ]


def evaluation_runs_compare(*, left: EvaluationRun, right: EvaluationRun) -> dict[str, Any]:
    """Two runs side by side: headline figures, and the items on which they differ (masked)."""
    rows = []
    for key, label in COMPARED:
        a, b = metric_get(left.metrics, key), metric_get(right.metrics, key)
        if a is None and b is None:
            continue
        delta = (
            round(b - a, 4) if isinstance(a, int | float) and isinstance(b, int | float) else None
        )
        rows.append({"key": key, "label": label, "left": a, "right": b, "delta": delta})
    same_set = left.frozen_set_id == right.frozen_set_id
    differing: list[dict[str, Any]] = []
    if same_set:
        theirs = {
            p.item_id: p
            for p in EvaluationPrediction.objects.filter(run=right).select_related("item")
        }
        for mine in EvaluationPrediction.objects.filter(run=left).select_related("item"):
            other = theirs.get(mine.item_id)
            if other is not None and mine.correct != other.correct:
                differing.append(
                    {
                        "item": mine.item.external_id,
                        "stratum": mine.item.stratum,
                        "text": mask_text(mine.item.text),
                        "left_correct": mine.correct,
                        "right_correct": other.correct,
                    }
                )
        differing.sort(key=lambda d: d["item"])
    return {"rows": rows, "same_set": same_set, "differing": differing}
