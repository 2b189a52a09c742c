"""Run-time classifiers: the active model version serves, the rules only raise, and a broken
artifact gives a clear error naming it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conversations.backends.base import IntentPrediction, RiskAssessment
from conversations.backends.classifiers import (
    ClassifierUnavailable,
    clear_cache,
    get_intent_classifier,
    get_safety_classifier,
)
from tests.training_jobs.fixtures import (  # noqa: F401
    activate_trained_models,
    safety_version_copy,
    trained_models,
)
from training_jobs.ml.artifact import ArtifactError
from training_jobs.ml.labels import RISK_CATEGORIES, RISK_LEVELS
from training_jobs.ml.predictors import SafetyPredictor, load_predictor
from training_jobs.models import ModelVersion


@pytest.fixture(autouse=True)
def _cold_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def active_models(db, trained_models):  # noqa: F811
    return activate_trained_models(trained_models)


class _FixedModel:
    """A stand-in model that always returns the same probabilities (for the rule-net tests)."""

    heads = {"level": RISK_LEVELS, "category": RISK_CATEGORIES}

    def __init__(self, level_probs):
        self.level_probs = np.asarray(level_probs, dtype=float)

    def predict_proba(self, texts):
        n = len(texts)
        category = np.tile([0.7, 0.1, 0.1, 0.1], (n, 1))
        return {"level": np.tile(self.level_probs, (n, 1)), "category": category}


def test_active_safety_version_assesses_with_its_name(active_models):
    result = get_safety_classifier().assess("I want to end my life tonight", history=())
    assert isinstance(result, RiskAssessment)
    assert result.level == "high"
    assert result.category == "suicidal_ideation"
    assert result.urgency == "immediate"
    assert result.model_version == active_models["safety"].name
    assert 0.0 <= result.score <= 1.0


def test_everyday_message_is_not_high(active_models):
    result = get_safety_classifier().assess("We planted tomatoes in the garden this weekend.")
    assert result.level != "high"


RETURNING_OPENINGS = [
    "I'm back. Something from last time is still on my mind.",
    "Hi again. Since last time things have been a bit better.",
    "Last time we talked about my boss. It happened again.",
    "Since last time I've been sleeping better.",
    "Can we pick up from last time?",
]
LAST_TIME_GOODBYES = [
    "I wanted to talk to someone one last time before I go.",
    "This is the last time you'll hear from me.",
    "For the last time, goodbye.",
]


def test_a_returning_user_mentioning_last_time_is_not_an_emergency(active_models):
    classifier = get_safety_classifier()
    assert all(classifier.assess(text).level != "high" for text in RETURNING_OPENINGS)
    assert all(classifier.assess(text).level == "high" for text in LAST_TIME_GOODBYES)


def test_risk_spread_over_turns_is_scored_with_the_history(active_models):
    classifier = get_safety_classifier()
    history = ["nobody would even notice if I was gone", "I wrote letters to my family"]
    with_history = classifier.assess("it's decided, tonight", history=history)
    (scores,) = classifier.high_scores([("it's decided, tonight", history)])
    assert scores["context"] > scores["message"]  # the history raises it
    assert with_history.level == "high"


def test_a_conversation_that_turns_risky_after_benign_turns_is_caught_at_the_turn(active_models):
    """The history starts benign (no earlier turn scored high on its own); the risk appears in
    the last message, which must be flagged high read with that history."""
    classifier = get_safety_classifier()
    history = ["work has been really stressful this month", "I had a big fight with my sister"]
    assert all(classifier.assess(turn).level != "high" for turn in history)
    assert classifier.assess(history[1], history=history[:1]).level != "high"
    final = classifier.assess(
        "I'm going to end my life tonight, I've already decided", history=history
    )
    assert final.level == "high"


def test_active_intent_version_predicts_with_its_name(active_models):
    prediction = get_intent_classifier().predict(
        "If you're in the US, you can call or text 988 to reach the Suicide & Crisis Lifeline "
        "right now."
    )
    assert isinstance(prediction, IntentPrediction)
    assert prediction.intent == "emergency"
    assert prediction.model_version == active_models["intent"].name


def test_activating_another_version_switches_the_served_model(active_models, trained_models):  # noqa: F811
    first = get_safety_classifier()
    ModelVersion.objects.filter(pk=active_models["safety"].pk).update(is_active=False)
    safety_version_copy(trained_models, "another-safety", is_active=True)
    second = get_safety_classifier()
    assert second is not first
    assert second.assess("hello").model_version == "another-safety"


@pytest.mark.django_db
def test_no_active_version_is_a_clear_error():
    with pytest.raises(ClassifierUnavailable, match="no active safety model version"):
        get_safety_classifier()


def test_missing_artifact_error_names_the_path(active_models, tmp_path, trained_models):  # noqa: F811
    copy = tmp_path / "copy"
    shutil.copytree(trained_models.safety.artifact_dir, copy)
    ModelVersion.objects.filter(pk=active_models["safety"].pk).update(
        artifact_path=str(copy), name="copied"
    )
    shutil.rmtree(copy)
    with pytest.raises(ClassifierUnavailable, match=str(copy)):
        get_safety_classifier()


def test_corrupt_artifact_file_error_names_the_file(trained_models, tmp_path):  # noqa: F811
    copy = tmp_path / "copy"
    shutil.copytree(trained_models.intent.artifact_dir, copy)
    target = copy / "linear.joblib"
    target.write_bytes(b"not a model" + target.read_bytes()[:100])
    with pytest.raises(ArtifactError, match=r"corrupt.*linear\.joblib"):
        load_predictor(copy)


def test_artifact_without_manifest_error_names_the_directory(trained_models, tmp_path):  # noqa: F811
    copy = tmp_path / "copy"
    shutil.copytree(trained_models.intent.artifact_dir, copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match=f"{copy}.*manifest.json"):
        load_predictor(copy)


def test_rule_net_raises_a_model_that_says_none():
    predictor = SafetyPredictor(
        _FixedModel([0.97, 0.01, 0.01, 0.01]), threshold=0.5, version="fixed"
    )
    result = predictor.assess("kms")
    assert result.level == "high"
    assert "si.kms" in result.rule_hits
    assert result.score == pytest.approx(0.01)  # the model's own probability is kept


def test_rule_net_never_lowers_a_model_that_says_high():
    predictor = SafetyPredictor(
        _FixedModel([0.01, 0.01, 0.01, 0.97]), threshold=0.5, version="fixed"
    )
    result = predictor.assess("my phone died")
    assert result.level == "high"
    assert result.rule_hits == ()


def test_threshold_decides_high_against_the_rest():
    probs = [0.5, 0.1, 0.1, 0.3]
    assert (
        SafetyPredictor(_FixedModel(probs), threshold=0.25, version="v").assess("x").level == "high"
    )
    assert (
        SafetyPredictor(_FixedModel(probs), threshold=0.35, version="v").assess("x").level == "none"
    )


def test_long_message_with_one_risk_sentence_is_scored_by_windows(active_models):
    filler = " ".join(
        f"On day {i} I went to work, had lunch with colleagues and came home to cook dinner."
        for i in range(12)
    )
    text = f"{filler} I gave my guitar away because I won't need it after this weekend. {filler}"
    result = get_safety_classifier().assess(text)
    assert result.level == "high"
    assert result.rule_hits == ()  # the model found it, not the rule net


class _KeywordModel(_FixedModel):
    """P(high) = ``p`` for short segments containing "risky", 0.01 otherwise."""

    def __init__(self, p):
        self.p = p

    def predict_proba(self, texts):
        rows = []
        for text in texts:
            high = self.p if "risky" in text and len(text.split()) < 35 else 0.01
            rows.append([1 - high, 0.0, 0.0, high])
        n = len(texts)
        return {"level": np.asarray(rows), "category": np.tile([0.7, 0.1, 0.1, 0.1], (n, 1))}


def test_a_window_of_a_long_message_decides_only_when_confident():
    filler = " ".join(f"Day {i} was an ordinary day at work and at home." for i in range(8))
    long_text = f"{filler} Something risky here. {filler}"
    unsure = SafetyPredictor(_KeywordModel(0.3), threshold=0.2, version="v")
    assert unsure.assess("Something risky here.").level == "high"  # a short message: 0.3 >= 0.2
    assert unsure.assess(long_text).level != "high"  # one window at 0.3: not enough
    sure = SafetyPredictor(_KeywordModel(0.8), threshold=0.2, version="v")
    assert sure.assess(long_text).level == "high"
