"""The Django-free label sets of the ML code and the database choices must never drift apart."""

from conversations.models import Intent, RiskCategory, RiskLevel
from evaluation.models import Urgency
from training_jobs.ml.labels import INTENTS, RISK_CATEGORIES, RISK_LEVELS, URGENCIES


def test_ml_label_sets_match_the_model_choices():
    assert list(RISK_LEVELS) == list(RiskLevel.values)
    assert set(RISK_CATEGORIES) == set(RiskCategory.values) - {""}
    assert set(INTENTS) == set(Intent.values)
    assert list(URGENCIES) == list(Urgency.values)
