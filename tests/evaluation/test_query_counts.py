"""Queue and list pages load in a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ari_review.audit import audit_event_record
from evaluation.models import SeedDialogue
from evaluation.selectors.items import review_item_detail
from evaluation.selectors.queue import queue_items_list
from evaluation.services import safety_label_create, session_rating_create, work_item_take_next
from evaluation.services.masking import work_item_masks_store
from tests.evaluation.conftest import api_as
from tests.factories import (
    ChatSessionFactory,
    EscalationFactory,
    LabelItemFactory,
    PreferenceItemFactory,
    ReviewItemFactory,
    SeedDialogueFactory,
)

pytestmark = pytest.mark.django_db


def _count(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def _review_items(n):
    for _ in range(n):
        session = ChatSessionFactory()
        EscalationFactory(session=session)
        ReviewItemFactory(session=session)


def test_review_queue_selector_and_api_do_not_grow_with_rows(
    clinician, django_assert_max_num_queries
):
    _review_items(2)
    api = api_as(clinician)
    api.get("/api/v1/queues/review/items/")  # warm the role cache
    small = _count(lambda: api.get("/api/v1/queues/review/items/"))
    _review_items(12)
    large = _count(lambda: api.get("/api/v1/queues/review/items/"))
    assert small == large
    with django_assert_max_num_queries(1):
        rows = list(queue_items_list(kind="review", clinician=clinician)[:50])
        [(r.session.user_id, r.escalation_open, r.message_count, r.active_locks) for r in rows]


@pytest.mark.parametrize("kind", ["safety", "intent"])
def test_label_queue_api_does_not_grow_with_rows(clinician, kind, django_assert_max_num_queries):
    session = ChatSessionFactory()
    message = session.messages.filter(role="user" if kind == "safety" else "assistant").first()
    LabelItemFactory(kind=kind, message=message)
    api = api_as(clinician)
    api.get(f"/api/v1/queues/{kind}/items/")  # warm the role cache
    small = _count(lambda: api.get(f"/api/v1/queues/{kind}/items/"))
    added = [LabelItemFactory(kind=kind, text=f"text {i}").pk for i in range(10)]
    work_item_masks_store(item_ids=added)  # as the import's batch step stores them
    with django_assert_max_num_queries(small):
        response = api.get(f"/api/v1/queues/{kind}/items/")
    assert response.json()["count"] == 11


@pytest.mark.parametrize("kind", ["review", "safety", "intent", "preference"])
def test_queue_pages_and_next_use_a_bounded_number_of_queries(
    client, clinician, kind, django_assert_max_num_queries
):
    makers = {
        "review": lambda: ReviewItemFactory(),
        "safety": lambda: LabelItemFactory(kind="safety"),
        "intent": lambda: LabelItemFactory(kind="intent", text="ok"),
        "preference": PreferenceItemFactory,
    }
    for _ in range(3):
        makers[kind]()
    client.force_login(clinician)
    queue_url = {
        "review": "evaluation:review-queue",
        "safety": "evaluation:safety-labelling",
        "intent": "evaluation:intent-labelling",
        "preference": "evaluation:preference-queue",
    }[kind]
    small = _count(lambda: client.get(reverse(queue_url)))
    for _ in range(10):
        makers[kind]()
    with django_assert_max_num_queries(small):
        assert client.get(reverse(queue_url)).status_code == 200
    api = api_as(clinician)
    # Savepoints included, and one UPDATE storing the masks of texts shown for the first time.
    with django_assert_max_num_queries(26):
        body = api.post(f"/api/v1/queues/{kind}/next/", {}, format="json").json()
    item_page = body["item"]["page_url"]
    with django_assert_max_num_queries(15):
        assert client.get(item_page).status_code == 200


def test_transcript_queries_do_not_grow_with_turns(clinician):
    short = ReviewItemFactory(session=ChatSessionFactory(turns=[("a", "b")]))
    long = ReviewItemFactory(
        session=ChatSessionFactory(turns=[(f"user {i}", f"ari {i}") for i in range(25)])
    )
    for item in (short, long):
        item.session  # noqa: B018 (load outside the count)
    # The first view stores the transcript's masks: one UPDATE, however many turns.
    first_short = _count(lambda: review_item_detail(item=short, clinician=clinician))
    first_long = _count(lambda: review_item_detail(item=long, clinician=clinician))
    assert first_short == first_long <= 5
    n_short = _count(lambda: review_item_detail(item=short, clinician=clinician))
    n_long = _count(lambda: review_item_detail(item=long, clinician=clinician))
    assert n_short == n_long <= 4


def test_dialogue_list_page_does_not_grow_with_dialogues_or_variants(client, clinician):
    client.force_login(clinician)
    SeedDialogueFactory()
    small = _count(lambda: client.get(reverse("evaluation:dialogue-list")))
    for i in range(15):
        original = SeedDialogueFactory(title=f"d{i}", state="approved")
        SeedDialogue.objects.create(title=f"v{i}", messages=original.messages, variant_of=original)
    assert _count(lambda: client.get(reverse("evaluation:dialogue-list"))) == small


def test_agreement_adjudication_and_audit_pages_do_not_grow(
    client, clinician, clinician2, admin_user
):
    def double_label(n):
        for _ in range(n):
            item = LabelItemFactory(kind="safety", required_reviews=2)
            safety_label_create(item=item, clinician=clinician, risk_level="low")
            safety_label_create(item=item, clinician=clinician2, risk_level="none")
            audit_event_record(actor=clinician, action="x", object_type="t", object_id=1)

    client.force_login(admin_user)
    pages = [
        reverse("evaluation:agreement") + "?label_set=safety.risk_level",
        reverse("evaluation:adjudication"),
        reverse("evaluation:audit-log"),
    ]
    double_label(2)
    small = [_count(lambda url=url: client.get(url)) for url in pages]
    double_label(10)
    from evaluation.models import AgreementFigures

    AgreementFigures.objects.all().delete()  # computed again, from the larger data
    large = [_count(lambda url=url: client.get(url)) for url in pages]
    assert large == small


def test_rating_a_long_session_uses_a_bounded_number_of_queries(
    clinician, django_assert_max_num_queries
):
    from evaluation.services import ReplyInput

    session = ChatSessionFactory(turns=[(f"user {i}", f"ari {i}") for i in range(20)])
    item = ReviewItemFactory(session=session)
    work_item_take_next(kind="review", clinician=clinician)
    replies = [
        ReplyInput(m.pk, ("too_long",), True) for m in session.messages.filter(role="assistant")
    ]
    with django_assert_max_num_queries(15):
        session_rating_create(
            item=item, clinician=clinician, appropriateness="appropriate", replies=replies
        )
