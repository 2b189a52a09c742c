"""The intent queue holds each reply once (#18 "intent items appear twice"): the intent is read
from the reply's text alone, so the same reply sent in several sessions, or arriving both as an
ESConv conversation and as a strategy line, is one item; the database refuses a second."""

from __future__ import annotations

import io
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from conversations.models import Message
from evaluation.models import WorkItem
from evaluation.selectors.queue import queue_items_list
from evaluation.services import esconv_import, label_queue_refresh
from evaluation.services.queues.labelling import intent_content_key
from tests.factories import ChatSessionFactory, MessageFactory, UserFactory

INTENT = WorkItem.Kind.INTENT
FIXED = "Thank you for telling me. I'm here with you."


def _reply(session, text: str, score: float):
    return MessageFactory(
        session=session, role="assistant", text=text, intent="validate", intent_score=score
    )


def test_the_same_reply_in_two_sessions_is_queued_once(db):
    first, second = ChatSessionFactory(turns=[]), ChatSessionFactory(turns=[])
    _reply(first, FIXED, 0.3)
    _reply(second, "thank you for telling me.  I'm here with you.", 0.2)  # case and spacing
    other = _reply(second, "What would help most tonight?", 0.4)

    label_queue_refresh(kind=INTENT)

    items = list(queue_items_list(kind=INTENT, clinician=UserFactory(role="clinician")))
    texts = [" ".join(i.message.text.casefold().split()) for i in items]
    assert len(texts) == len(set(texts))  # no reply twice
    assert texts.count(" ".join(FIXED.casefold().split())) == 1
    assert other.pk in {i.message_id for i in items}
    # A later refresh finds nothing new: the duplicate stays out of the queue.
    before = WorkItem.objects.filter(kind=INTENT).count()
    assert label_queue_refresh(kind=INTENT) == 0
    assert WorkItem.objects.filter(kind=INTENT).count() == before


def test_a_reply_from_a_conversation_and_a_strategy_line_is_one_item(db):
    conversation = [
        {
            "dialog": [
                {"speaker": "seeker", "content": "I lost my job today."},
                {"speaker": "supporter", "content": FIXED, "annotation": {"strategy": "Other"}},
            ]
        }
    ]
    line = {
        "context": [{"speaker": "seeker", "text": "Something else happened."}],
        "reply": FIXED,
        "strategy": "Other",
    }
    esconv_import(
        fileobj=io.BytesIO(json.dumps(conversation).encode()), filename="c.json", intent_items=True
    )
    again = esconv_import(fileobj=io.BytesIO(json.dumps(line).encode()), filename="t.jsonl")

    assert (again.created, again.skipped) == (0, 1)
    assert WorkItem.objects.filter(kind=INTENT, content_key=intent_content_key(FIXED)).count() == 1


def test_the_database_refuses_a_second_item_with_the_same_reply(db):
    key = intent_content_key(FIXED)
    WorkItem.objects.create(kind=INTENT, reason="imported", text=FIXED, content_key=key)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkItem.objects.create(kind=INTENT, reason="imported", text=FIXED, content_key=key)
    # Other kinds are not keyed: a safety item with the same text is its own item.
    WorkItem.objects.create(kind=WorkItem.Kind.SAFETY, reason="imported", text=FIXED)


def _replies(session, rows: list[tuple[str, float]]) -> list[Message]:
    return Message.objects.bulk_create(
        Message(session=session, role="assistant", text=text, intent="validate", intent_score=s)
        for text, s in rows
    )


def _message_reads(queries) -> int:
    return sum('FROM "conversations_message"' in q["sql"] for q in queries)


def test_new_replies_behind_thousands_of_repeated_wordings_are_found_in_few_reads(db, settings):
    """Replies that repeat a few approved wordings, all queued already, come first (least
    certain): the refresh passes over them in a few keyset reads (each wording read once, then
    left out in SQL), not a read per 500 replies, and queues the new wordings behind them."""
    settings.EVALUATION_LABEL_QUEUE_SIZE = 10
    session = ChatSessionFactory(turns=[])
    wordings = [FIXED, "What would help most tonight?", "That sounds heavy."]
    for text in wordings:
        WorkItem.objects.create(
            kind=INTENT, reason="imported", text=text, content_key=intent_content_key(text)
        )
    _replies(session, [(wordings[i % 3], 0.1 + (i % 7) / 100) for i in range(3000)])
    _replies(session, [("THAT sounds   heavy.", 0.5)])  # a queued wording, case and spacing
    fresh = _replies(session, [(f"New wording {n}.", 0.6 + n / 100) for n in range(4)])

    with CaptureQueriesContext(connection) as ctx:
        assert label_queue_refresh(kind=INTENT) == 4

    queued = set(
        WorkItem.objects.filter(kind=INTENT, message__isnull=False).values_list(
            "message_id", flat=True
        )
    )
    assert queued == {m.pk for m in fresh}
    assert _message_reads(ctx.captured_queries) <= 3  # by OFFSET: 7 reads of 500


def test_keyset_reads_keep_newest_first_among_equal_scores(db, settings):
    """Equal uncertainty, unique wordings, the newest 600 queued already (by content): the next
    500 newest are queued, none skipped or taken twice across the reads."""
    settings.EVALUATION_LABEL_QUEUE_SIZE = 500
    session = ChatSessionFactory(turns=[])
    replies = _replies(session, [(f"Wording number {n}.", 0.4) for n in range(1200)])
    newest_first = sorted(replies, key=lambda m: -m.pk)
    WorkItem.objects.bulk_create(
        WorkItem(
            kind=INTENT, reason="imported", text=m.text, content_key=intent_content_key(m.text)
        )
        for m in newest_first[:600]
    )

    assert label_queue_refresh(kind=INTENT) == 500

    queued = set(
        WorkItem.objects.filter(kind=INTENT, message__isnull=False).values_list(
            "message_id", flat=True
        )
    )
    assert queued == {m.pk for m in newest_first[600:1100]}
