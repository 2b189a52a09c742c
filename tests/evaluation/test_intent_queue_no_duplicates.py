"""The intent queue holds each reply once (#18 "intent items appear twice"): the intent is read
from the reply's text alone, so the same reply sent in several sessions, or arriving both as an
ESConv conversation and as a strategy line, is one item; the database refuses a second."""

from __future__ import annotations

import io
import json

import pytest
from django.db import IntegrityError, transaction

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
