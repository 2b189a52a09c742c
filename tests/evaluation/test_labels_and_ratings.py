"""Session ratings, safety and intent labels, preference judgements (with the unsafe override)."""

import pytest

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from evaluation.models import PreferenceJudgement, ReplyAssessment, SafetyLabel, WorkItem
from evaluation.services import (
    CandidateScoreInput,
    ReplyInput,
    intent_label_create,
    preference_judgement_create,
    safety_label_create,
    session_rating_create,
)
from tests.factories import (
    ChatSessionFactory,
    LabelItemFactory,
    PreferenceItemFactory,
    ReviewItemFactory,
)

pytestmark = pytest.mark.django_db


def test_session_rating_stores_reply_flags_validation_note_and_audit(clinician):
    session = ChatSessionFactory()
    item = ReviewItemFactory(session=session)
    first_reply, second_reply = session.messages.filter(role="assistant").order_by("id")
    rating = session_rating_create(
        item=item,
        clinician=clinician,
        appropriateness="inappropriate",
        replies=[
            ReplyInput(first_reply.pk, ("too_long", "missing_validation"), False),
            ReplyInput(second_reply.pk, (), None),  # nothing said: not stored
        ],
        note="Second reply rushed.",
    )
    stored = ReplyAssessment.objects.get(rating=rating)
    assert stored.message_id == first_reply.pk
    assert stored.flags == ["missing_validation", "too_long"]  # canonical order
    assert stored.validated is False
    event = AuditEvent.objects.get(action="session_rating.create")
    assert event.actor == clinician and event.before is None
    assert event.after["appropriateness"] == "inappropriate"
    assert event.after["note"] == "Second reply rushed."


def test_rating_rejects_messages_of_another_session_and_unknown_flags(clinician):
    item = ReviewItemFactory()
    foreign = ChatSessionFactory().messages.filter(role="assistant").first()
    with pytest.raises(ApplicationError, match="not one of Ari's replies"):
        session_rating_create(
            item=item,
            clinician=clinician,
            appropriateness="appropriate",
            replies=[ReplyInput(foreign.pk)],
        )
    own = item.session.messages.filter(role="assistant").first()
    with pytest.raises(ApplicationError, match="Unknown reply flag"):
        session_rating_create(
            item=item,
            clinician=clinician,
            appropriateness="appropriate",
            replies=[ReplyInput(own.pk, ("rude",))],
        )
    with pytest.raises(ApplicationError, match="Appropriateness"):
        session_rating_create(item=item, clinician=clinician, appropriateness="fine")
    item.refresh_from_db()
    assert item.reviews_done == 0  # nothing half-written


def test_safety_label_rules(clinician):
    item = LabelItemFactory(kind=WorkItem.Kind.SAFETY)
    with pytest.raises(ApplicationError, match="no risk has no risk category"):
        safety_label_create(item=item, clinician=clinician, risk_level="none", category="self_harm")
    with pytest.raises(ApplicationError, match="Choose a risk category"):
        safety_label_create(item=item, clinician=clinician, risk_level="high")
    label = safety_label_create(
        item=item,
        clinician=clinician,
        risk_level="high",
        category="suicidal_ideation",
        urgency="immediate",
        suggestion_shown=True,
    )
    assert (label.risk_level, label.urgency, label.suggestion_shown) == ("high", "immediate", True)
    assert AuditEvent.objects.filter(action="safety_label.create", object_id=str(label.pk)).exists()


def test_intent_label_needs_a_known_intent_and_the_right_queue(clinician):
    item = LabelItemFactory(kind=WorkItem.Kind.INTENT, text="That sounds really hard.")
    with pytest.raises(ApplicationError, match="Intent must be"):
        intent_label_create(item=item, clinician=clinician, intent="comfort")
    assert (
        intent_label_create(item=item, clinician=clinician, intent="validate").intent == "validate"
    )
    safety = LabelItemFactory(kind=WorkItem.Kind.SAFETY)
    with pytest.raises(ApplicationError, match="not a intent"):
        intent_label_create(item=safety, clinician=clinician, intent="validate")


def _scores(item, unsafe=()):
    return [
        CandidateScoreInput(c.pk, 2, 2, 2, 0 if c.pk in unsafe else 3, unsafe=c.pk in unsafe)
        for c in item.candidates.all()
    ]


def test_preference_pick_is_stored_with_scores(clinician):
    item = PreferenceItemFactory()
    a, b, c = item.candidates.order_by("position")
    judgement = preference_judgement_create(
        item=item, clinician=clinician, chosen_id=b.pk, tie=False, scores=_scores(item)
    )
    assert judgement.effective_chosen_id == b.pk
    assert judgement.scores.count() == 3
    assert sorted(judgement.shown_order) == sorted([a.pk, b.pk, c.pk])


def test_marking_the_pick_unsafe_overrides_it_and_creates_a_safety_label(clinician):
    item = PreferenceItemFactory()
    a, b, _ = item.candidates.order_by("position")
    judgement = preference_judgement_create(
        item=item, clinician=clinician, chosen_id=a.pk, tie=False, scores=_scores(item, {a.pk})
    )
    assert judgement.chosen_id == a.pk and judgement.effective_chosen_id is None
    label = SafetyLabel.objects.get()
    assert label.item.text == a.text and label.item.text_role == "assistant"
    assert label.risk_level == "high" and label.clinician == clinician
    assert label.item.status == "done"


def test_preference_input_errors(clinician):
    item = PreferenceItemFactory(texts=("One.", "Two."))
    a, b = item.candidates.order_by("position")
    with pytest.raises(ApplicationError, match="not both"):
        preference_judgement_create(
            item=item, clinician=clinician, chosen_id=a.pk, tie=True, scores=_scores(item)
        )
    with pytest.raises(ApplicationError, match="Score every candidate"):
        preference_judgement_create(
            item=item, clinician=clinician, chosen_id=a.pk, tie=False, scores=_scores(item)[:1]
        )
    with pytest.raises(ApplicationError, match="0 to 3"):
        preference_judgement_create(
            item=item,
            clinician=clinician,
            chosen_id=None,
            tie=True,
            scores=[CandidateScoreInput(a.pk, 4, 0, 0, 0), CandidateScoreInput(b.pk, 0, 0, 0, 0)],
        )
    assert not PreferenceJudgement.objects.exists()
