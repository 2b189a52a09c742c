"""The review queue and active learning follow the served version's possible-risk band (with
the confidence production writes), and clinician safety labels go where they belong: user turns
train the risk model with their history, labels on Ari's replies go to the response side."""

from __future__ import annotations

import pytest
from django.test import override_settings

from conversations.models import ChatSession
from conversations.services.turn.persist import session_state_apply
from evaluation.models import WorkItem
from evaluation.services import label_queue_refresh, review_queue_refresh, safety_label_create
from tests.factories import ChatSessionFactory, LabelItemFactory, MessageFactory
from tests.training_jobs.fixtures import FixedRiskModel
from training_jobs.ml.predictors import SafetyPredictor
from training_jobs.ml.thresholds import safety_confidence
from training_jobs.models import ModelVersion
from training_jobs.selectors import database_label_rows, response_safety_label_rows

pytestmark = pytest.mark.django_db
SAFETY = WorkItem.Kind.SAFETY
BAND = {"possible": 0.1, "high": 0.3}


@pytest.fixture
def served_band():
    return ModelVersion.objects.create(
        name="safety-band",
        kind="safety",
        backend="hybrid",
        artifact_path="safety-band",
        thresholds=dict(BAND),
        train_data_hash="x",
        test_data_hash="y",
        gate_passed=True,
        is_active=True,
    )


def test_confidence_is_lowest_inside_the_band_and_rises_outside():
    inside = [safety_confidence(s, **BAND) for s in (0.1, 0.15, 0.2, 0.25, 0.29)]
    assert all(0.5 <= c < 0.6 for c in inside)
    assert safety_confidence(0.2, **BAND) == 0.5  # the middle of the band
    outside = [safety_confidence(s, **BAND) for s in (0.0, 0.05, 0.3, 0.6, 1.0)]
    assert all(0.6 <= c <= 1.0 for c in outside)
    assert safety_confidence(0.0, **BAND) == safety_confidence(1.0, **BAND) == 1.0
    assert safety_confidence(0.5, high=None, possible=None) == 0.5  # older versions


@override_settings(EVALUATION_LOW_CONFIDENCE_PERCENT=60, EVALUATION_REVIEW_SAMPLE_PER_MONTH=0)
def test_a_session_with_a_band_message_reaches_the_low_confidence_tier(served_band):
    """The session state the pipeline writes, from the confidence the predictor produces."""
    predictor = SafetyPredictor(FixedRiskModel(0.2), threshold=0.3, possible=0.1, version="v")
    banded = predictor.assess("I don't know how much longer I can do this")
    assert banded.level == "medium" and banded.confidence < 0.6
    clear = SafetyPredictor(FixedRiskModel(0.01), threshold=0.3, possible=0.1, version="v").assess(
        "hi"
    )
    sessions = []
    for assessment in (banded, clear):
        session = ChatSessionFactory()
        session_state_apply(
            session,
            level=assessment.level,
            score=assessment.score,
            confidence=assessment.confidence,
        )
        sessions.append(session)
    assert review_queue_refresh()["low_confidence"] == 1
    queued = set(WorkItem.objects.filter(reason="low_confidence").values_list("session", flat=True))
    assert queued == {sessions[0].pk}
    assert ChatSession.objects.get(pk=sessions[1].pk).min_safety_confidence >= 0.6


@override_settings(EVALUATION_LABEL_QUEUE_SIZE=2, EVALUATION_DOUBLE_LABEL_PERCENT=0)
def test_active_learning_takes_the_band_of_the_served_version_first(served_band):
    session = ChatSessionFactory(turns=[("ok", "ok")])
    scores = {0.02: "clearly none", 0.2: "middle of the band", 0.27: "in the band", 0.5: "high"}
    messages = {
        text: MessageFactory(
            session=session, role="user", text=text, risk_score=score, risk_level="low"
        )
        for score, text in scores.items()
    }
    assert label_queue_refresh(kind=SAFETY) == 2
    queued = {i.message_id for i in WorkItem.objects.filter(kind=SAFETY, message__isnull=False)}
    assert queued == {messages["middle of the band"].pk, messages["in the band"].pk}
    priorities = dict(WorkItem.objects.filter(kind=SAFETY).values_list("message__text", "priority"))
    assert priorities["middle of the band"] < priorities["in the band"]


def test_user_labels_train_with_history_and_reply_labels_go_to_the_response_side(clinician):
    session = ChatSessionFactory(
        turns=[
            ("I've been putting my pills aside for a while", "That sounds heavy."),
            ("Work is the same as ever.", "What weighs most?"),
        ]
    )
    latest = MessageFactory(
        session=session, role="user", text="I think I have enough now", risk_level="low"
    )
    reply = MessageFactory(
        session=session, role="assistant", text="Here is how many you would need."
    )
    for message, level in ((latest, "high"), (reply, "high")):
        item = LabelItemFactory(kind=SAFETY, message=message)
        category = "suicidal_ideation"
        safety_label_create(item=item, clinician=clinician, risk_level=level, category=category)
    rows = database_label_rows(kind="safety")
    assert [r["text"] for r in rows] == ["I think I have enough now"]
    assert rows[0]["history"] == [
        "I've been putting my pills aside for a while",
        "Work is the same as ever.",
    ]
    assert rows[0]["risk_level"] == "high" and rows[0]["source"] == "clinician-labels"
    response = response_safety_label_rows()
    assert [r["text"] for r in response] == ["Here is how many you would need."]
