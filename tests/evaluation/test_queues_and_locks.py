"""Queue priorities, locks with expiry, and the N-reviews rule."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from evaluation.models import WorkItem, WorkLock
from evaluation.services import (
    label_queue_refresh,
    review_queue_refresh,
    safety_label_create,
    session_rating_create,
    work_item_lock,
    work_item_release,
    work_item_take_next,
    work_locks_release_expired,
)
from tests.factories import (
    ChatSessionFactory,
    EscalationFactory,
    LabelItemFactory,
    MessageFactory,
    ReviewItemFactory,
    UserFactory,
)
from training_jobs.ml.thresholds import safety_confidence

pytestmark = pytest.mark.django_db

REVIEW = WorkItem.Kind.REVIEW
SAFETY = WorkItem.Kind.SAFETY


def test_two_clinicians_never_get_the_same_single_review_item(clinician, clinician2):
    first = ReviewItemFactory()
    second = ReviewItemFactory()
    taken_a = work_item_take_next(kind=REVIEW, clinician=clinician)
    taken_b = work_item_take_next(kind=REVIEW, clinician=clinician2)
    assert {taken_a, taken_b} == {first, second}
    assert taken_a != taken_b


def test_taking_next_again_returns_the_item_already_held(clinician):
    ReviewItemFactory()
    ReviewItemFactory()
    first = work_item_take_next(kind=REVIEW, clinician=clinician)
    assert work_item_take_next(kind=REVIEW, clinician=clinician) == first
    assert WorkLock.objects.filter(clinician=clinician).count() == 1


def test_a_locked_item_cannot_be_taken_by_another_clinician(clinician, clinician2):
    item = ReviewItemFactory()
    work_item_lock(item=item, clinician=clinician)
    assert work_item_take_next(kind=REVIEW, clinician=clinician2) is None
    with pytest.raises(ApplicationError, match="Another clinician"):
        work_item_lock(item=item, clinician=clinician2)
    with pytest.raises(ApplicationError, match="Another clinician"):
        session_rating_create(item=item, clinician=clinician2, appropriateness="appropriate")


def test_an_expired_lock_frees_the_item(clinician, clinician2):
    item = ReviewItemFactory()
    work_item_lock(item=item, clinician=clinician)
    WorkLock.objects.filter(item=item).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert work_item_take_next(kind=REVIEW, clinician=clinician2) == item
    # The first clinician's lock is gone for good: the slot now belongs to clinician2.
    with pytest.raises(ApplicationError):
        session_rating_create(item=item, clinician=clinician, appropriateness="appropriate")


@override_settings(EVALUATION_LOCK_MINUTES=7)
def test_lock_expiry_follows_the_setting(clinician):
    item = ReviewItemFactory()
    lock = work_item_lock(item=item, clinician=clinician)
    minutes = (lock.expires_at - timezone.now()).total_seconds() / 60
    assert 6.9 < minutes <= 7.0


def test_item_with_two_required_reviews_goes_to_two_clinicians_once_each(
    clinician, clinician2, clinician3
):
    item = ReviewItemFactory(session=ChatSessionFactory(), required_reviews=2)
    assert work_item_take_next(kind=REVIEW, clinician=clinician) == item
    assert work_item_take_next(kind=REVIEW, clinician=clinician2) == item
    assert work_item_take_next(kind=REVIEW, clinician=clinician3) is None  # both slots held
    session_rating_create(item=item, clinician=clinician, appropriateness="appropriate")
    item.refresh_from_db()
    assert (item.reviews_done, item.status) == (1, "open")
    with pytest.raises(ApplicationError, match="already completed"):
        session_rating_create(item=item, clinician=clinician, appropriateness="excellent")
    assert work_item_take_next(kind=REVIEW, clinician=clinician) is None  # not twice
    session_rating_create(item=item, clinician=clinician2, appropriateness="inappropriate")
    item.refresh_from_db()
    assert (item.reviews_done, item.status) == (2, "done")
    with pytest.raises(ApplicationError, match="all the reviews"):
        session_rating_create(item=item, clinician=clinician3, appropriateness="appropriate")


def test_release_gives_the_item_back_and_exclude_skips_it(clinician, clinician2):
    first = ReviewItemFactory(session=ChatSessionFactory(), priority=0)
    second = ReviewItemFactory(session=ChatSessionFactory(), priority=1)
    assert work_item_take_next(kind=REVIEW, clinician=clinician) == first
    assert work_item_release(item=first, clinician=clinician) == 1
    assert work_item_take_next(kind=REVIEW, clinician=clinician, exclude_ids=[first.pk]) == second
    assert work_item_take_next(kind=REVIEW, clinician=clinician2) == first


def test_expired_locks_are_cleaned_up(clinician, clinician2):
    a, b = (
        ReviewItemFactory(),
        ReviewItemFactory(),
    )
    work_item_lock(item=a, clinician=clinician)
    work_item_lock(item=b, clinician=clinician2)
    WorkLock.objects.filter(item=a).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert work_locks_release_expired() == 1
    assert list(WorkLock.objects.values_list("item_id", flat=True)) == [b.pk]


@override_settings(
    EVALUATION_REVIEW_SAMPLE_PER_MONTH=2,
    EVALUATION_REVIEWS_PER_SESSION=1,
    EVALUATION_REVIEWS_PER_HIGH_RISK_SESSION=2,
    EVALUATION_LOW_CONFIDENCE_PERCENT=60,
)
def test_review_queue_orders_escalated_high_risk_low_confidence_then_sample(clinician):
    plain = [ChatSessionFactory() for _ in range(4)]
    # The least sure a served decision gets: a score in the middle of the possible-risk band
    # (production's confidences lie in [0.5, 1]; the low-confidence tier is below 0.6).
    unsure = safety_confidence(0.45, high=0.6, possible=0.3)
    assert 0.5 <= unsure < 0.6
    low_conf = ChatSessionFactory(min_safety_confidence=unsure)
    high = ChatSessionFactory(max_risk_level="high")
    escalated = ChatSessionFactory()
    EscalationFactory(session=escalated)
    counts = review_queue_refresh()
    assert counts["escalated"] == 1 and counts["high_risk"] == 1
    assert counts["low_confidence"] == 1 and counts["sample"] == 2
    items = list(WorkItem.objects.filter(kind=REVIEW).order_by("priority", "id"))
    assert [i.session_id for i in items[:3]] == [escalated.pk, high.pk, low_conf.pk]
    assert {i.session_id for i in items[3:]} <= {s.pk for s in plain}
    assert [i.required_reviews for i in items[:3]] == [2, 2, 1]
    # Running it again adds nothing (idempotent, monthly sample already met).
    assert review_queue_refresh() == {
        "escalated": 0,
        "high_risk": 0,
        "low_confidence": 0,
        "sample": 0,
    }
    # The escalated session is what a clinician gets first.
    assert work_item_take_next(kind=REVIEW, clinician=clinician).session_id == escalated.pk


def test_a_session_escalated_after_queueing_moves_to_the_top_on_next(clinician):
    sample = ReviewItemFactory(session=ChatSessionFactory(), priority=3)
    other = ReviewItemFactory(session=ChatSessionFactory(), priority=2)
    EscalationFactory(session=sample.session)
    taken = work_item_take_next(kind=REVIEW, clinician=clinician)
    assert taken == sample
    sample.refresh_from_db()
    assert (sample.priority, sample.reason, sample.required_reviews) == (0.0, "escalated", 2)
    assert other.pk != taken.pk


@override_settings(EVALUATION_LABEL_QUEUE_SIZE=3, EVALUATION_DOUBLE_LABEL_PERCENT=0)
def test_active_learning_queues_least_certain_messages_first(clinician):
    session = ChatSessionFactory(turns=[("ok", "ok")])
    scores = {0.02: "sure no", 0.48: "unsure", 0.97: "sure yes", 0.6: "fairly unsure", 0.3: "meh"}
    messages = {
        text: MessageFactory(
            session=session, role="user", text=text, risk_score=score, risk_level="low"
        )
        for score, text in scores.items()
    }
    imported = LabelItemFactory(kind=SAFETY, priority=0.5)  # no model score: uncertainty 0.5
    assert label_queue_refresh(kind=SAFETY) == 3
    queued = {i.message_id for i in WorkItem.objects.filter(kind=SAFETY, message__isnull=False)}
    assert queued == {messages["unsure"].pk, messages["fairly unsure"].pk, messages["meh"].pk}
    order = []
    for _ in range(4):
        item = work_item_take_next(kind=SAFETY, clinician=clinician)
        order.append(item.message.text if item.message_id else "imported")
        safety_label_create(item=item, clinician=clinician, risk_level="none")
    # uncertainty: unsure 0.96, fairly unsure 0.8, meh 0.6, imported (no score) 0.5
    assert order == ["unsure", "fairly unsure", "meh", "imported"]
    assert imported.pk


@override_settings(
    EVALUATION_LABELS_PER_ITEM=1,
    EVALUATION_LABELS_PER_HIGH_RISK_ITEM=2,
    EVALUATION_DOUBLE_LABEL_PERCENT=0,
    EVALUATION_LABEL_QUEUE_SIZE=10,
)
def test_messages_the_model_calls_high_risk_are_labelled_twice():
    session = ChatSessionFactory(turns=[("ok", "ok")])
    high = MessageFactory(
        session=session,
        role="user",
        text="I don't see a way forward",
        risk_score=0.9,
        risk_level="high",
    )
    low = MessageFactory(
        session=session, role="user", text="just tired", risk_score=0.2, risk_level="low"
    )
    label_queue_refresh(kind=SAFETY)
    required = dict(
        WorkItem.objects.filter(kind=SAFETY).values_list("message_id", "required_reviews")
    )
    assert required[high.pk] == 2 and required[low.pk] == 1


@override_settings(EVALUATION_DOUBLE_LABEL_PERCENT=100)
def test_double_label_percent_sends_items_to_two_clinicians():
    session = ChatSessionFactory(turns=[("ok", "ok")])
    MessageFactory(session=session, role="user", text="meh", risk_score=0.4, risk_level="low")
    label_queue_refresh(kind=SAFETY)
    assert set(WorkItem.objects.filter(kind=SAFETY).values_list("required_reviews", flat=True)) == {
        2
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_from_two_connections_get_different_items():
    """Two clinicians pressing "next" at the same moment (separate connections and
    transactions): select_for_update(skip_locked) hands them different items."""
    import threading

    from django.db import connection

    first, second = UserFactory(role="clinician"), UserFactory(role="clinician")
    items = [ReviewItemFactory() for _ in range(2)]
    barrier = threading.Barrier(2)
    taken: dict[str, int] = {}

    def take(name, clinician):
        try:
            barrier.wait(timeout=10)
            taken[name] = work_item_take_next(kind=REVIEW, clinician=clinician).pk
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take, args=("a", first)),
        threading.Thread(target=take, args=("b", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(taken.values()) == sorted(i.pk for i in items)


def test_a_labelling_suggestion_names_the_safety_version_its_turn_recorded():
    """The chat turn records the model versions on the reply, not on the user message."""
    session = ChatSessionFactory(turns=[("ok", "ok")])
    message = MessageFactory(
        session=session, role="user", text="unsure", risk_score=0.5, risk_level="low"
    )
    MessageFactory(
        session=session,
        role="assistant",
        text="reply",
        reply_to=message,
        model_versions={"safety": "safety-v7"},
    )
    label_queue_refresh(kind=SAFETY)
    item = WorkItem.objects.get(kind=SAFETY, message=message)
    assert item.suggestion["model_version"] == "safety-v7"


def test_queue_lists_show_masked_texts_stored_once_for_the_page(client, clinician):
    """The labelling queue page and its item list show each text masked; a production
    message's mask is stored on it the first time and read back after (not masked per view),
    an imported text is masked too."""
    from ari_review.privacy.masking import MASKING_VERSION
    from conversations.models import ChatSession, Message

    session = ChatSession.objects.create(user=clinician, session_type="check_in")
    said = Message.objects.create(
        session=session, role="user", text="Call me on 07700 900123 tonight"
    )
    LabelItemFactory(kind=SAFETY, message=said, priority=0.1)
    LabelItemFactory(kind=SAFETY, text="Mail me at sam@example.org", priority=0.2)
    client.force_login(clinician)
    page = client.get("/labels/safety/").content.decode()
    assert "07700 900123" not in page and "sam@example.org" not in page
    assert "[phone]" in page and "[email]" in page
    said.refresh_from_db()
    assert said.text_masked_version == MASKING_VERSION and "[phone]" in said.text_masked
    Message.objects.filter(pk=said.pk).update(text_masked="the stored mask")
    assert "the stored mask" in client.get("/labels/safety/").content.decode()
    listed = client.get("/api/v1/queues/safety/items/").json()["results"]
    previews = [row["preview"] for row in listed]
    assert previews == ["the stored mask", "Mail me at [email]"]
