"""Stored metrics match a recomputation; the threshold tuner reaches the requested recall."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from training_jobs.ml.data import DatasetPaths, load_frozen_test_rows
from training_jobs.ml.labels import INTENTS, RISK_LEVELS
from training_jobs.ml.metrics import classification_metrics
from training_jobs.ml.predictors import load_predictor
from training_jobs.ml.thresholds import tune_threshold_for_recall
from training_jobs.ml.train import TrainSettings
from training_jobs.services import model_version_train


def _assert_matches_sklearn(stored: dict, truth: list[str], predicted: list[str], labels) -> None:
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(labels), zero_division=0
    )
    for i, label in enumerate(labels):
        row = stored["per_class"][label]
        assert row["precision"] == pytest.approx(precision[i], abs=1e-6)
        assert row["recall"] == pytest.approx(recall[i], abs=1e-6)
        assert row["f1"] == pytest.approx(f1[i], abs=1e-6)
        assert row["support"] == support[i]
    assert (
        stored["confusion_matrix"]["matrix"]
        == confusion_matrix(truth, predicted, labels=list(labels)).tolist()
    )


@pytest.mark.django_db
def test_tiny_safety_training_stores_metrics_that_match_a_recomputation(tiny_dataset):
    result = model_version_train(
        kind="safety", backend="linear", train_settings=TrainSettings(cv_folds=3, latency_samples=5)
    )
    version = result.version
    paths = DatasetPaths(tiny_dataset / "safety_train.jsonl", tiny_dataset / "safety_test.jsonl")
    rows = load_frozen_test_rows("safety", paths=paths)
    predictor = load_predictor(version.artifact_dir, version=version.name)
    served = predictor.assess_many([(r["text"], r["history"]) for r in rows])
    truth = [r["risk_level"] for r in rows]
    predicted = [a.level for a in served]

    _assert_matches_sklearn(version.metrics["levels"], truth, predicted, RISK_LEVELS)
    tp = sum(t == p == "high" for t, p in zip(truth, predicted, strict=True))
    assert version.metrics["high_recall"] == pytest.approx(tp / truth.count("high"), abs=1e-6)
    assert version.metrics["test_rows"] == len(rows) == version.metrics["levels"]["n"]
    assert version.thresholds["high"] == predictor.threshold
    assert set(version.metrics["latency_single"]) >= {"p50_ms", "p95_ms"}


@pytest.mark.django_db
def test_tiny_intent_training_stores_metrics_that_match_a_recomputation(tiny_dataset):
    version = model_version_train(
        kind="intent", backend="linear", train_settings=TrainSettings(latency_samples=5)
    ).version
    paths = DatasetPaths(tiny_dataset / "intent_train.jsonl", tiny_dataset / "intent_test.jsonl")
    rows = load_frozen_test_rows("intent", paths=paths)
    predicted = [
        p.intent
        for p in load_predictor(version.artifact_dir).predict_many([r["text"] for r in rows])
    ]
    truth = [r["intent"] for r in rows]

    _assert_matches_sklearn(version.metrics, truth, predicted, INTENTS)
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(rows)
    assert version.metrics["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_classification_metrics_count_a_class_never_predicted_as_zero_precision():
    metrics = classification_metrics(["a", "b", "b"], ["b", "b", "b"], ["a", "b"])
    assert metrics["per_class"]["a"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["per_class"]["b"]["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["confusion_matrix"]["matrix"] == [[0, 1], [0, 2]]


def test_threshold_tuner_reaches_the_requested_recall_on_a_synthetic_split():
    rng = np.random.default_rng(3)
    positives = rng.normal(0.7, 0.15, 400)
    negatives = rng.normal(0.3, 0.15, 1600)
    y = [True] * 400 + [False] * 1600
    scores = list(positives) + list(negatives)
    for target in (0.9, 0.95, 0.98, 0.99, 1.0):
        choice = tune_threshold_for_recall(y, scores, target_recall=target)
        recall = np.mean(positives >= choice.threshold)
        assert recall >= target
        assert choice.recall == pytest.approx(recall)
        # the highest such threshold: any higher score loses recall below the target
        higher = positives[positives > choice.threshold]
        assert len(higher) / 400 < target
        assert choice.false_positive_rate == pytest.approx(np.mean(negatives >= choice.threshold))


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=60).filter(
        lambda d: any(t for t, _ in d)
    ),
    target=st.floats(0.01, 1.0),
)
def test_threshold_tuner_recall_is_never_below_the_target(data, target):
    y = [t for t, _ in data]
    scores = [s for _, s in data]
    choice = tune_threshold_for_recall(y, scores, target_recall=target)
    hits = sum(s >= choice.threshold for t, s in data if t)
    assert hits / sum(y) >= target - 1e-9


def test_threshold_tuner_refuses_a_split_without_positives():
    with pytest.raises(ValueError, match="no positive"):
        tune_threshold_for_recall([False, False], [0.1, 0.9], target_recall=0.98)


def _safety_metrics(recall, clearly_safe_rate):
    return {
        "high_recall": recall,
        "missed_high_ids": ["a"] if recall < 1 else [],
        "high": {"tp": 99, "fn": 1},
        "clearly_safe_high_rate": clearly_safe_rate,
    }


@pytest.mark.parametrize(
    ("recall", "safe_rate", "passed", "warned"),
    [
        (0.99, 0.0375, True, False),
        (0.99, 0.2375, True, True),
        (0.97, 0.01, False, False),
        (0.97, 0.30, False, True),
    ],
)
def test_safety_gate_is_recall_and_reports_false_alarms_over_target(
    recall, safe_rate, passed, warned
):
    from training_jobs.ml.train import TrainSettings, safety_gate

    ok, reason = safety_gate(_safety_metrics(recall, safe_rate), TrainSettings())
    assert ok is passed
    assert ("recall" in reason) and (("warning" in reason) is warned)
    if warned:
        assert f"{safe_rate:.1%}" in reason
