"""Leave-source-out validation: folds never split a source; both thresholds of the three-way
policy are chosen on held-out sources and stored on the model version, which serves them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.training_jobs.fixtures import FixedRiskModel
from training_jobs.ml import data as datasets
from training_jobs.ml.predictors import SafetyPredictor, load_predictor
from training_jobs.ml.train import (
    TrainSettings,
    choose_thresholds,
    choose_thresholds_with_context,
    leave_source_out_report,
    train_and_evaluate,
)


@given(
    sources=st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=60),
    folds=st.integers(min_value=1, max_value=8),
    seed=st.integers(min_value=0, max_value=5),
)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a loaded CI machine
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
        [{"message": s, "context": None} for s in scores],
        chosen,
    )
    assert report["by_level"]["high"]["high_rate"] == round(caught / 200, 4)
    assert report["by_source"]["s"]["high"]["band_rate"] == round(in_band / 200, 4)


def _conversation_rows():
    """Single messages, then conversations whose benign ones read high with their history."""
    rng = np.random.default_rng(3)
    rows, parts = [], []
    for high in [True] * 100 + [False] * 100:
        rows.append({"risk_level": "high" if high else "none", "source": "s"})
        parts.append({"message": rng.uniform(0.3, 1.0) if high else rng.uniform(0, 0.4)})
        parts[-1]["context"] = None
    for high in [True] * 100 + [False] * 100:
        rows.append({"risk_level": "high" if high else "none", "source": "c", "history": ["h"]})
        # half the risky conversations show it only with the history
        alone = rng.uniform(0.3, 1.0) if high and len(rows) % 2 else rng.uniform(0, 0.2)
        with_history = rng.uniform(0.7, 1.0) if high else rng.uniform(0.2, 0.75)
        parts.append({"message": alone, "context": with_history})
    return rows, parts


def test_conversations_get_their_own_thresholds_with_the_same_recall():
    rows, parts = _conversation_rows()
    settings = TrainSettings(validation_recall=0.98, possible_recall=0.995)
    chosen = choose_thresholds_with_context(rows, parts, settings, method="m")
    context = chosen["context"]
    assert context["rows"] == 200
    assert chosen["possible"] <= chosen["high"] and context["possible"] <= context["high"]
    # benign conversations read high with their history: the context threshold sits above them
    assert context["high"] > chosen["high"]
    report = leave_source_out_report(rows, parts, chosen)
    conversations = report["conversations_by_level"]
    assert conversations["high"]["high_rate"] >= 0.98
    assert conversations["high"]["band_rate"] >= 0.995
    one = leave_source_out_report(rows, parts, {**chosen, "context": {}})
    assert conversations["none"]["high_rate"] < one["conversations_by_level"]["none"]["high_rate"]


def test_without_conversations_the_context_thresholds_are_the_single_ones():
    rows, parts = _conversation_rows()
    chosen = choose_thresholds_with_context(rows[:200], parts[:200], TrainSettings(), method="m")
    assert chosen["context"]["high"] == chosen["high"]
    assert chosen["context"]["possible"] == chosen["possible"]


@pytest.mark.parametrize(
    ("p_message", "p_context", "level"),
    [
        (0.10, 0.60, "medium"),  # over the single threshold only with the history: a question
        (0.10, 0.75, "high"),  # over the conversation threshold
        (0.55, 0.10, "high"),  # the message alone decides with its own threshold
        (0.10, 0.25, "none"),  # under both bands
    ],
)
def test_the_message_with_its_history_is_judged_by_the_context_thresholds(
    p_message, p_context, level
):
    predictor = SafetyPredictor(
        FixedRiskModel(p_message, context_p_high=p_context),
        threshold=0.5,
        possible=0.2,
        context={"high": 0.7, "possible": 0.4},
        version="v",
        use_rules=False,
    )
    assert predictor.assess("and then what", history=["an earlier turn"]).level == level
    # without history only the message's own thresholds apply
    alone = predictor.assess("and then what").level
    assert alone == ("high" if p_message >= 0.5 else "none")


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


def _tiny_safety(directory, out, **settings):
    paths = datasets.DatasetPaths(directory / "safety_train.jsonl", directory / "safety_test.jsonl")
    outcome = train_and_evaluate(
        kind="safety",
        backend="linear",
        out_dir=out,
        version="v",
        paths=paths,
        settings=TrainSettings(cv_folds=3, latency_samples=0, **settings),
    )
    return outcome, paths


def test_a_version_trained_to_serve_the_conversation_thresholds_serves_them(
    tiny_dataset_dir, tmp_path
):
    outcome, _ = _tiny_safety(tiny_dataset_dir, tmp_path / "m", context_thresholds=True)
    context = outcome.thresholds["context"]
    predictor = load_predictor(outcome.artifact_dir)
    assert (predictor.context_threshold, predictor.context_possible) == (
        context["high"],
        context["possible"],
    )


def test_a_trained_version_stores_and_serves_both_thresholds_and_the_lso_report(
    tiny_dataset_dir, tmp_path
):
    outcome, paths = _tiny_safety(tiny_dataset_dir, tmp_path / "m")
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
    # by default one pair serves every segment; the conversations' pair is only reported
    assert "context" not in thresholds and "high" in thresholds["context_candidate"]
    assert (predictor.context_threshold, predictor.context_possible) == (
        thresholds["high"],
        thresholds["possible"],
    )
    # every training row's held-out scores are kept beside the artifact, without its text
    records = [
        json.loads(line)
        for line in (outcome.artifact_dir / "lso_scores.jsonl").read_text().splitlines()
    ]
    assert len(records) == outcome.train_rows
    assert {"fingerprint", "source", "risk_level", "message", "context"} <= set(records[0])
    assert "text" not in records[0]
