"""The served backend: n-gram and MiniLM sentence-vector models blended, offline, int8, with the
blend and both thresholds chosen on leave-source-out scores."""

from __future__ import annotations

import numpy as np
import pytest

from training_jobs.ml import data as datasets
from training_jobs.ml.encoder import get_encoder
from training_jobs.ml.hybrid import HybridTextModel
from training_jobs.ml.predictors import load_predictor
from training_jobs.ml.train import TrainSettings, train_and_evaluate


def test_the_encoder_is_offline_int8_and_gives_unit_vectors():
    encoder = get_encoder()
    vectors = encoder.encode(["I feel calm today", "I feel calm today", "the pills are saved up"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors[0], vectors[1])
    assert encoder.identity["weights_sha256"]
    assert "int8" in encoder.identity["encoder"]
    similar = float(vectors[2] @ encoder.encode(["I have been stockpiling tablets"])[0])
    unrelated = float(vectors[2] @ encoder.encode(["my team won the football match"])[0])
    assert similar > unrelated


@pytest.fixture(scope="module")
def hybrid_outcome(tiny_dataset_dir, tmp_path_factory):
    paths = datasets.DatasetPaths(
        tiny_dataset_dir / "safety_train.jsonl", tiny_dataset_dir / "safety_test.jsonl"
    )
    return train_and_evaluate(
        kind="safety",
        backend="hybrid",
        out_dir=tmp_path_factory.mktemp("hybrid") / "m",
        version="hybrid-test",
        paths=paths,
        settings=TrainSettings(cv_folds=3, latency_samples=20, blend_grid=(0.35, 0.65)),
    )


def test_the_blend_is_chosen_on_leave_source_out_scores_and_stored(hybrid_outcome):
    thresholds = hybrid_outcome.thresholds
    assert thresholds["blend"] in (0.35, 0.65)
    assert set(thresholds["blend_false_alarms"]) == {"0.35", "0.65"}
    chosen = thresholds["blend_false_alarms"][str(thresholds["blend"])]
    assert chosen == min(thresholds["blend_false_alarms"].values())
    assert hybrid_outcome.manifest["settings"]["blend"] == thresholds["blend"]


def test_a_saved_hybrid_serves_what_was_trained(hybrid_outcome):
    predictor = load_predictor(hybrid_outcome.artifact_dir)
    model = predictor.model
    assert isinstance(model, HybridTextModel) and model.blend == hybrid_outcome.thresholds["blend"]
    texts = ["I have the pills in front of me tonight", "we had pizza and watched a film"]
    linear, embedding = model.predict_parts(texts)
    blended = model.predict_proba(texts)
    expected = model.blend * linear["level"] + (1 - model.blend) * embedding["level"]
    assert np.allclose(blended["level"], expected)
    assert np.allclose(blended["level"].sum(axis=1), 1.0)
    latency = hybrid_outcome.metrics["latency_single"]
    assert latency["n"] == 20 and latency["p95_ms"] > 0


def test_a_damaged_hybrid_artifact_is_a_clear_error(hybrid_outcome, tmp_path):
    import shutil

    from training_jobs.ml.artifact import ArtifactError

    copy = tmp_path / "copy"
    shutil.copytree(hybrid_outcome.artifact_dir, copy)
    (copy / "embedding_heads.joblib").write_bytes(b"not a model")
    with pytest.raises(ArtifactError, match="embedding_heads.joblib"):
        load_predictor(copy)
