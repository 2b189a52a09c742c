"""Leave-source-out validation: folds never split a source; both thresholds of the three-way
policy are chosen on held-out sources and stored on the model version, which serves them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.training_jobs.fixtures import FixedRiskModel
from training_jobs.ml import data as datasets
from training_jobs.ml.predictors import SafetyPredictor, load_predictor
from training_jobs.ml.train import (
    TrainSettings,
    choose_thresholds,
    leave_source_out_report,
    train_and_evaluate,
)


@given(
    sources=st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=60),
    folds=st.integers(min_value=1, max_value=8),
    seed=st.integers(min_value=0, max_value=5),
)
def test_a_source_is_never_split_between_folds(sources, folds, seed):
    rows = [{"text": f"t{i}", "source": s} for i, s in enumerate(sources)]
    assignment = datasets.source_folds(rows, folds=folds, seed=seed)
    fold_of: dict[str, int] = {}
    for row, fold in zip(rows, assignment, strict=True):
        assert fold_of.setdefault(row["source"], fold) == fold
    assert max(assignment) + 1 == min(folds, len(set(sources)))


def test_rows_without_a_source_fall_back_to_their_group_then_themselves():
    rows = [
        {"text": "a", "group": "g1"},
        {"text": "b", "group": "g1"},
        {"text": "c", "id": "x"},
        {"text": "d", "source": "writer"},
    ]
    assert [datasets.row_source(r) for r in rows] == ["g1", "g1", "x", "writer"]


def test_both_thresholds_come_from_held_out_scores():
    truth = [True] * 200 + [False] * 200
    scores = list(np.linspace(0.05, 0.95, 200)) + list(np.linspace(0.0, 0.6, 200))
    chosen = choose_thresholds(
        truth, scores, TrainSettings(validation_recall=0.98, possible_recall=0.995), method="m"
    )
    caught = sum(s >= chosen["high"] for t, s in zip(truth, scores, strict=True) if t)
    in_band = sum(s >= chosen["possible"] for t, s in zip(truth, scores, strict=True) if t)
    assert caught / 200 >= 0.98 and in_band / 200 >= 0.995
    assert chosen["possible"] <= chosen["high"]
    report = leave_source_out_report(
        [{"risk_level": "high" if t else "none", "source": "s"} for t in truth],
        scores,
        chosen["high"],
        chosen["possible"],
    )
    assert report["by_level"]["high"]["high_rate"] == round(caught / 200, 4)
    assert report["by_source"]["s"]["high"]["band_rate"] == round(in_band / 200, 4)


@pytest.mark.parametrize(
    ("p_high", "p_medium", "level"),
    [
        (0.60, 0.0, "high"),  # at or above the high threshold: the emergency flow
        (0.30, 0.0, "medium"),  # the possible-risk band: a safety question, never plain coaching
        (0.05, 0.0, "none"),  # below the band: the most likely of the other levels
        (0.05, 0.6, "medium"),
    ],
)
def test_the_three_way_policy(p_high, p_medium, level):
    predictor = SafetyPredictor(
        FixedRiskModel(p_high, p_medium), threshold=0.5, possible=0.2, version="v", use_rules=False
    )
    assert predictor.assess("a message about my day").level == level


def test_a_trained_version_stores_and_serves_both_thresholds_and_the_lso_report(
    tiny_dataset_dir, tmp_path
):
    paths = datasets.DatasetPaths(
        tiny_dataset_dir / "safety_train.jsonl", tiny_dataset_dir / "safety_test.jsonl"
    )
    outcome = train_and_evaluate(
        kind="safety",
        backend="linear",
        out_dir=tmp_path / "m",
        version="v",
        paths=paths,
        settings=TrainSettings(cv_folds=3, latency_samples=0),
    )
    thresholds = outcome.thresholds
    assert 0.0 <= thresholds["possible"] <= thresholds["high"] <= 1.0
    assert thresholds["validation_method"].startswith("leave-source-out scores (3 folds")
    sources = {datasets.row_source(r) for r in datasets.read_rows(paths.train, kind="safety")}
    assert set(thresholds["leave_source_out"]["by_source"]) == sources
    predictor = load_predictor(outcome.artifact_dir)
    assert (predictor.threshold, predictor.possible) == (
        thresholds["high"],
        thresholds["possible"],
    )
