"""The dataset browser: Ari's turns and imported texts, filtered, searched, masked, linked to
their labelling views, and paginated by keyset."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from django.utils import timezone

from conversations.models import ChatSession, Message
from evaluation.models import WorkItem
from evaluation.selectors.datasets import DatasetFilters, dataset_page
from evaluation.services import safety_label_create
from tests.factories import ChatSessionFactory, LabelItemFactory, UserFactory

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


def test_chat_turns_record_their_care_level_and_the_browser_filters_by_it(client, clinician):
    """Turns go through the real chat pipeline: the care level is what production writes."""
    from conversations.services import chat_turn_run, session_create
    from evaluation.services.starter import starter_content_load
    from tests.conversations.conftest import FixedRisk, RecordingGenerator

    starter_content_load()
    safety = FixedRisk(
        "none",
        overrides={"I feel hopeless about everything": "medium", "I want to end it all": "high"},
    )
    generator = RecordingGenerator()
    session = session_create(user=UserFactory(role="enduser"), session_type="check_in")
    said = [
        "Today was an ordinary day",
        "I feel hopeless about everything",
        "I want to end it all",
        "Can you tell me more about the weather",
    ]
    for text in said:
        chat_turn_run(session=session, text=text, safety_classifier=safety, generator=generator)
    turns = list(Message.objects.filter(session=session, role="user").order_by("id"))
    assert [t.care_level for t in turns] == ["support", "check_in", "crisis", "safety_check"]
    assert all(
        m.care_level == "" for m in Message.objects.filter(session=session, role="assistant")
    )

    client.force_login(clinician)
    crisis = client.get("/datasets/?care=crisis").content.decode()
    assert _ids(crisis) == [turns[2].pk] and "crisis" in crisis
    assert _ids(client.get("/datasets/?care=check_in").content.decode()) == [turns[1].pk]
    both = client.get("/datasets/?care=safety_check&risk=none").content.decode()
    assert _ids(both) == [turns[3].pk]
    bad = client.get("/datasets/?care=urgent").content.decode()
    assert "Unknown care level." in bad and len(_ids(bad)) == 4
    # The conversation view: every turn in order with its care level, risk and intent.
    page = client.get(f"/datasets/conversations/{session.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and _ids(html) == [t.pk for t in turns]
    for level in ("care level: support", "care level: check_in", "care level: crisis"):
        assert level in html
    assert "risk: high" in html and "intent: emergency" in html
    assert client.get("/datasets/conversations/999999/").status_code == 404
    from ari_review.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="dataset.view", object_type="chat_session", object_id=str(session.pk)
    ).exists()


def test_care_level_backfill_reads_the_stored_route():
    """The migration's rule for turns stored before the column: the fixed reply's route, then
    the message's risk."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("conversations.migrations.0011_message_care_level")
    session = ChatSessionFactory(
        turns=[("a", "b"), ("c", "d"), ("e", "f"), ("g", "h")],
        risk_levels=["high", "medium", "low", "none"],
    )
    user_turns = list(Message.objects.filter(session=session, role="user").order_by("id"))
    kinds = [{"backend": "fixed", "kind": "emergency"}, {}, {}, {"kind": "safety_clarify"}]
    for turn, provenance in zip(user_turns, kinds, strict=True):
        Message.objects.filter(reply_to=turn).update(provenance=provenance)
    Message.objects.filter(session=session).update(care_level="")
    migration.backfill(apps, None)
    assert list(
        Message.objects.filter(session=session, role="user")
        .order_by("id")
        .values_list("care_level", flat=True)
    ) == ["crisis", "check_in", "support", "safety_check"]


def test_imported_corpora_show_their_turns(client, clinician):
    """ESConv, KakoVerse and counsel-chat (the test fixtures, through the real importers) each
    list their turns with text, and KakoVerse's replies carry the corpus's care levels."""
    from pathlib import Path

    from evaluation.services.imports.counsel_chat import counsel_chat_import
    from evaluation.services.imports.esconv import esconv_import
    from evaluation.services.imports.kakoverse import kakoverse_import

    data = Path(__file__).parent / "data"
    with open(data / "counsel_chat.csv", "rb") as f:
        counsel_chat_import(fileobj=f, filename="counsel_chat.csv")
    with open(data / "esconv_strategy.jsonl", "rb") as f:
        esconv_import(fileobj=f, filename="esconv_strategy.jsonl")
    with open(data / "kakoverse_conversation.json", "rb") as f:
        kakoverse_import(files=[("kakoverse_conversation.json", f)])
    client.force_login(clinician)
    for source in ("counsel_chat", "esconv", "kakoverse"):
        html = client.get(f"/datasets/?source={source}").content.decode()
        ids = _ids(html)
        assert ids, source
        items = WorkItem.objects.filter(pk__in=ids)
        assert all(i.source == source for i in items)
        # Every row shows a turn's text (a comparison's is the seeker's last message).
        page = dataset_page(DatasetFilters(source=source))
        assert all(row.text.strip() for row in page.rows), source
    kako = dataset_page(DatasetFilters(source="kakoverse"))
    cares = {c["care_level"] for row in kako.rows for c in row.candidates}
    assert cares and all(isinstance(c, int | float) for c in cares)
    html = client.get("/datasets/?source=kakoverse").content.decode()
    assert "care level" in html
    refused = client.get("/datasets/?source=kakoverse&care=crisis").content.decode()
    assert "Care levels are recorded on Ari&#x27;s turns" in refused and _ids(refused)
    # One imported turn with the conversation before it.
    row = kako.rows[0]
    turn = client.get(f"/datasets/imported/{row.id}/")
    assert turn.status_code == 200 and "Before this turn" in turn.content.decode()
    assert client.get("/datasets/imported/999999/").status_code == 404


@pytest.mark.parametrize("near_ids", [20_000, 12])
def test_search_pages_merge_message_and_reply_matches(clinician, monkeypatch, near_ids):
    """A search matches the message or the reply (two queries merged): pages of the merged rows
    do not overlap or skip, forwards and back, and the other filters still apply. Each query
    looks first among the ids next to the page's bound; with 12 of them a page is often not
    filled there and is read again unbounded."""
    monkeypatch.setattr("evaluation.selectors.datasets.SEARCH_NEAR_IDS", near_ids)
    session = ChatSession.objects.create(user=clinician, session_type="check_in")
    expected = []
    for n in range(130):
        mine = n % 3 == 0
        theirs = n % 3 == 1
        user = Message.objects.create(
            session=session,
            role="user",
            text=f"turn {n} about a kite" if mine else f"turn {n}",
            risk_level="low" if n % 2 else "none",
        )
        Message.objects.create(
            session=session,
            role="assistant",
            text=f"a KITE reply {n}" if theirs else f"reply {n}",
            reply_to=user,
            intent="validate",
        )
        if mine or theirs:
            expected.append(user.pk)
    expected.reverse()
    first = dataset_page(DatasetFilters(search="kite"))
    second = dataset_page(DatasetFilters(search="kite"), after=first.next_after)
    assert [r.id for r in first.rows] == expected[:50] and first.prev_before is None
    assert [r.id for r in second.rows] == expected[50:87] and second.next_after is None
    back = dataset_page(DatasetFilters(search="kite"), before=second.prev_before)
    assert [r.id for r in back.rows] == expected[:50]
    low = dataset_page(DatasetFilters(search="kite", risk="low", intent="validate"))
    assert [r.id for r in low.rows] == [
        pk for pk in expected if Message.objects.get(pk=pk).risk_level == "low"
    ]
    deep = dataset_page(DatasetFilters(intent="validate"), after=expected[10])
    assert deep.rows and all(r.id < expected[10] for r in deep.rows)


def test_masks_are_stored_on_first_view_and_read_back(client, clinician, data):
    """The first page that shows a message masks it and stores the mask with the masking's
    version; later pages read the stored mask, and a mask of an older version is made again."""
    from ari_review.privacy.masking import MASKING_VERSION

    calm = Message.objects.get(session=data["calm"], role="user")
    assert calm.text_masked_version == 0
    client.force_login(clinician)
    assert "[email]" in client.get("/datasets/").content.decode()
    calm.refresh_from_db()
    assert calm.text_masked == "Write to me at [email] please"
    assert calm.text_masked_version == MASKING_VERSION
    reply = Message.objects.get(reply_to=calm)
    assert reply.text_masked == "Thank you for sharing." and reply.text_masked_version
    # Read back, not masked again: a stored mask of the current version is what the page shows.
    Message.objects.filter(pk=calm.pk).update(text_masked="stored mask of the turn")
    assert "stored mask of the turn" in client.get("/datasets/").content.decode()
    conversation = client.get(f"/datasets/conversations/{data['calm'].pk}/").content.decode()
    assert "stored mask of the turn" in conversation
    # A mask made by an older masking is made again (and stored) when next read.
    Message.objects.filter(pk=calm.pk).update(text_masked_version=MASKING_VERSION - 1)
    html = client.get("/datasets/").content.decode()
    assert "stored mask of the turn" not in html and "[email]" in html
    calm.refresh_from_db()
    assert calm.text_masked == "Write to me at [email] please"
    assert calm.text_masked_version == MASKING_VERSION


def test_a_past_date_range_pages_newest_first_without_overlap(clinician):
    """A closed range days back (read through created_at's index and sorted): the day's turns
    only, newest first, keyset pages forwards and back, other filters and search applied."""
    session = ChatSession.objects.create(user=clinician, session_type="check_in")
    day = timezone.localdate() - dt.timedelta(days=20)
    noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    in_range = []
    for n in range(70):
        # The day before, the day itself, the day after, in turn; later ids get earlier times
        # (pages go by id, not by time).
        offset = (n % 3) - 1
        user = Message.objects.create(
            session=session, role="user", text=f"turn {n}", risk_level="low" if n % 2 else "none"
        )
        Message.objects.create(
            session=session,
            role="assistant",
            text=f"a kite reply {n}" if n % 4 == 0 else f"reply {n}",
            reply_to=user,
            intent="validate",
        )
        Message.objects.filter(session=session, id__gte=user.pk).update(
            created_at=noon + dt.timedelta(days=offset, minutes=70 - n)
        )
        if offset == 0:
            in_range.append(user.pk)
    in_range.reverse()
    one_day = DatasetFilters(since=day, until=day)
    first = dataset_page(one_day)
    assert [r.id for r in first.rows] == in_range[:50] and first.prev_before is None
    assert len(in_range) < 50 and first.next_after is None
    ten = dataset_page(one_day, after=in_range[9])
    assert [r.id for r in ten.rows] == in_range[10:] and ten.prev_before == in_range[10]
    back = dataset_page(one_day, before=in_range[10])
    assert [r.id for r in back.rows] == in_range[:10]
    low = dataset_page(replace(one_day, risk="low"))
    assert [r.id for r in low.rows] == [
        pk for pk in in_range if Message.objects.get(pk=pk).risk_level == "low"
    ]
    kite = dataset_page(replace(one_day, search="kite", intent="validate"))
    assert [r.id for r in kite.rows] == [
        pk for pk in in_range if "kite" in Message.objects.get(reply_to_id=pk).text
    ]


@pytest.mark.celery_worker
def test_an_import_masks_its_texts_in_a_batch_task_the_pages_read_back(
    celery_worker, client, clinician, settings, monkeypatch
):
    """counsel-chat's importer stores the questions, then its batch task (a real worker; the
    batches chained, ``MASK_BATCH`` at a time) stores each question's mask on its item; the
    dataset browser and the queue read the stored masks back."""
    import io
    import time

    from ari_review.privacy.masking import MASKING_VERSION
    from evaluation.services import counsel_chat_import
    from evaluation.services import masking as item_masking

    settings.EVALUATION_LABEL_QUEUE_SIZE = 0
    monkeypatch.setattr(item_masking, "MASK_BATCH", 2)  # three items: two chained runs
    header = "questionID,questionTitle,questionText,topic,answerText\n"
    rows = "".join(f"{n},Title {n},Question {n} for jo@example.org,x,\n" for n in range(3))
    counsel_chat_import(fileobj=io.BytesIO((header + rows).encode()), filename="c.csv")

    items = WorkItem.objects.filter(source="counsel_chat")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and items.exclude(text_masked_version=MASKING_VERSION):
        time.sleep(0.1)
    assert items.count() == 3
    assert not items.exclude(text_masked_version=MASKING_VERSION).exists()
    assert all("jo@example.org" not in i.text_masked and "[email]" in i.text_masked for i in items)
    assert all("jo@example.org" in i.text for i in items)  # the text itself is kept

    first = items.order_by("pk").first()
    WorkItem.objects.filter(pk=first.pk).update(text_masked="stored mask of the question")
    client.force_login(clinician)
    html = client.get("/datasets/?source=counsel_chat").content.decode()
    assert "stored mask of the question" in html and "jo@example.org" not in html
    queue = client.get("/labels/safety/").content.decode()
    assert "stored mask of the question" in queue
