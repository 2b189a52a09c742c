"""The dataset browser: Ari's turns and imported texts, filtered, searched, masked, linked to
their labelling views, and paginated by keyset."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conversations.models import ChatSession, Message
from evaluation.models import WorkItem
from evaluation.selectors.datasets import DatasetFilters, dataset_page
from evaluation.services import safety_label_create
from tests.factories import ChatSessionFactory, LabelItemFactory

pytestmark = pytest.mark.django_db


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-row-id="(\d+)"', html)]


@pytest.fixture
def data(clinician):
    calm = ChatSessionFactory(
        turns=[("Write to me at jo.smith@example.org please", "Thank you for sharing.")],
        risk_levels=["none"],
    )
    crisis = ChatSessionFactory(
        turns=[("Everything feels hopeless tonight", "I'm really glad you told me.")],
        risk_levels=["high"],
        reply_fields={"intent": "emergency"},
    )
    high = Message.objects.get(session=crisis, role="user")
    item = LabelItemFactory(kind="safety", message=high)
    safety_label_create(item=item, clinician=clinician, risk_level="high", category="crisis")
    WorkItem.objects.create(
        kind=WorkItem.Kind.SAFETY,
        reason=WorkItem.Reason.IMPORTED,
        text="An imported question about panic at night",
        suggestion={"risk_level": "medium"},
        source="counsel_chat",
        external_id="q1",
    )
    return {"calm": calm, "crisis": crisis, "item": item, "high": high}


def test_filters_search_masking_and_labelling_links(client, clinician, data):
    client.force_login(clinician)
    html = client.get("/datasets/").content.decode()
    assert "jo.smith@example.org" not in html and "[email]" in html
    assert len(_ids(html)) == 2
    high = client.get("/datasets/?risk=high").content.decode()
    assert _ids(high) == [data["high"].pk]
    assert f"/labels/safety/items/{data['item'].pk}/" in high and "risk: high" in high
    assert _ids(client.get("/datasets/?intent=emergency").content.decode()) == [data["high"].pk]
    assert _ids(client.get("/datasets/?q=hopeless").content.decode()) == [data["high"].pk]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert _ids(client.get(f"/datasets/?since={tomorrow}").content.decode()) == []
    imported = client.get("/datasets/?source=counsel_chat&risk=medium").content.decode()
    assert "An imported question about panic" in imported and len(_ids(imported)) == 1
    bad = client.get("/datasets/?risk=extreme&since=yesterday&source=nowhere")
    assert bad.status_code == 200
    assert "Unknown risk level." in bad.content.decode()
    assert "From must be a date" in bad.content.decode()


def test_keyset_pages_do_not_overlap_and_cost_the_same(
    client, clinician, django_assert_max_num_queries
):
    session = ChatSession.objects.create(user=clinician, session_type="check_in")
    for n in range(120):
        user = Message.objects.create(session=session, role="user", text=f"turn {n}")
        Message.objects.create(
            session=session, role="assistant", text=f"reply {n}", reply_to=user, intent="validate"
        )
    first = dataset_page(DatasetFilters())
    assert len(first.rows) == 50 and first.prev_before is None
    second = dataset_page(DatasetFilters(), after=first.next_after)
    third = dataset_page(DatasetFilters(), after=second.next_after)
    assert len(third.rows) == 20 and third.next_after is None
    ids = [r.id for page in (first, second, third) for r in page.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 120
    back = dataset_page(DatasetFilters(), before=second.prev_before)
    assert [r.id for r in back.rows] == [r.id for r in first.rows]
    # A deep page costs the same handful of queries as the first.
    client.force_login(clinician)
    with django_assert_max_num_queries(12):
        html = client.get(f"/datasets/?after={second.next_after}").content.decode()
    assert len(_ids(html)) == 20 and 'rel="prev"' in html and 'rel="next"' not in html
