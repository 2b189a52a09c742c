"""ari_review.rows writes and reads rows exactly as the ORM does, on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ari_review.rows import (
    insert_statement,
    mark_stored,
    row_get,
    row_insert,
    row_insert_locked,
    row_update,
    rows_write,
    update_statement,
)
from conversations.models import ChatSession, Message
from tests.conftest import BOTH_DATABASES, enduser_in

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def _field_values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def session(db_alias):
    return ChatSession.objects.using(db_alias).create(
        user_id=enduser_in(db_alias, "rows_user").pk,
        session_type="gentle_deep",
        preferences={"tone": "direct", "session_length": "short"},
        previous_summary="Themes: work. «Quotes» and ünïcode.",
    )


def test_row_get_reads_what_the_orm_reads(db_alias, session):
    by_public_id = row_get(
        ChatSession, {"user_id": session.user_id, "public_id": session.public_id}, using=db_alias
    )
    by_pk = row_get(ChatSession, {"id": session.pk}, for_update=False, using=db_alias)
    orm = ChatSession.objects.using(db_alias).get(pk=session.pk)

    assert _field_values(by_public_id) == _field_values(by_pk) == _field_values(orm)
    assert isinstance(by_pk.public_id, uuid.UUID) and by_pk.preferences["tone"] == "direct"
    assert by_pk._state.db == db_alias and not by_pk._state.adding


def test_row_get_locks_inside_a_transaction_and_misses_are_none(db_alias, session):
    with transaction.atomic(using=db_alias):
        locked = row_get(ChatSession, {"id": session.pk}, for_update=True, using=db_alias)
    assert locked.pk == session.pk
    assert row_get(ChatSession, {"id": session.pk + 1000}, using=db_alias) is None
    assert row_get(ChatSession, {"public_id": uuid.uuid4()}, using=db_alias) is None
    with pytest.raises(ValidationError):
        row_get(ChatSession, {"public_id": "not-a-uuid"}, using=db_alias)


def test_row_insert_stores_what_the_orm_would_store(db_alias, session):
    message = Message(
        session=session,
        role=Message.Role.ASSISTANT,
        text="Ça va? 'quotes' \"double\" ; DROP TABLE x; -- 🙂",
        filter_hits=[{"rule": "r1", "version": "2026.1"}],
        latency_ms={"total": 1.5},
        provenance={"backend": "approved", "nested": {"a": [1, 2, None]}},
        resources=[{"name": "988 Suicide & Crisis Lifeline"}],
        intent_score=0.75,
    )
    assert row_insert(message, using=db_alias) is True

    stored = Message.objects.using(db_alias).get(pk=message.pk)
    assert stored.created_at is not None and stored.created_at == message.created_at
    assert _field_values(stored) == _field_values(message)
    assert row_get(Message, {"id": message.pk}, using=db_alias).provenance["nested"] == {
        "a": [1, 2, None]
    }


def test_row_insert_ignoring_conflicts_writes_nothing_for_a_used_key(db_alias, session):
    first = Message(session=session, role="user", text="first", idempotency_key="k1")
    again = Message(session=session, role="user", text="second", idempotency_key="k1")
    unkeyed = [Message(session=session, role="user", text=f"t{i}") for i in range(2)]

    assert row_insert(first, ignore_conflicts=True, using=db_alias) is True
    assert row_insert(again, ignore_conflicts=True, using=db_alias) is False
    assert again.pk is None
    assert all(row_insert(m, ignore_conflicts=True, using=db_alias) for m in unkeyed)
    texts = Message.objects.using(db_alias).order_by("id").values_list("text", flat=True)
    assert list(texts) == ["first", "t0", "t1"]
    with pytest.raises(IntegrityError), transaction.atomic(using=db_alias):
        row_insert(
            Message(session=session, role="user", text="x", idempotency_key="k1"), using=db_alias
        )


def test_row_update_writes_only_the_named_fields(db_alias, session):
    copy = ChatSession.objects.using(db_alias).get(pk=session.pk)
    copy.summary = "someone else's edit"
    copy.save(using=db_alias, update_fields=["summary"])

    session.flow_step = "reframe"
    session.preferences = {"tone": "gentle"}
    session.summary = "stale value, not written"
    row_update(session, ["flow_step", "preferences"], using=db_alias)
    row_update(session, [], using=db_alias)  # nothing to do

    stored = ChatSession.objects.using(db_alias).get(pk=session.pk)
    assert (stored.flow_step, stored.preferences) == ("reframe", {"tone": "gentle"})
    assert stored.summary == "someone else's edit"


def _insert_locked(db_alias, session, text, key="", status="open"):
    message = Message(role="user", text=text, idempotency_key=key)
    found, stored = row_insert_locked(
        message,
        parent="session",
        parent_where={"user_id": session.user_id, "public_id": session.public_id},
        parent_check={"status": status},
        ignore_conflicts=bool(key),
        using=db_alias,
    )
    return message, found, stored


def test_row_insert_locked_stores_the_row_under_its_parent_when_the_check_holds(db_alias, session):
    message, found, stored = _insert_locked(db_alias, session, "hello 🙂", key="k1")

    assert stored is True and message.pk is not None and not message._state.adding
    assert _field_values(found) == _field_values(
        ChatSession.objects.using(db_alias).get(pk=session.pk)
    )
    assert message.session_id == session.pk and message.session is found
    assert _field_values(Message.objects.using(db_alias).get(pk=message.pk)) == _field_values(
        message
    )


def test_row_insert_locked_writes_nothing_for_a_failed_check_a_used_key_or_no_parent(
    db_alias, session
):
    _insert_locked(db_alias, session, "first", key="k1")

    again, found, stored = _insert_locked(db_alias, session, "again", key="k1")
    assert (stored, again.pk, found.pk) == (False, None, session.pk)
    _, found, stored = _insert_locked(db_alias, session, "ended?", status="ended")
    assert (stored, found.pk) == (False, session.pk)
    other = ChatSession(pk=session.pk, user_id=session.user_id, public_id=uuid.uuid4())
    assert _insert_locked(db_alias, other, "nobody")[1:] == (None, False)
    texts = Message.objects.using(db_alias).values_list("text", flat=True)
    assert list(texts) == ["first"]


def test_rows_write_runs_its_statements_as_one_transaction_and_returns_their_rows(
    db_alias, session
):
    user_message = Message(session=session, role="user", text="hi")
    row_insert(user_message, using=db_alias)
    user_message.risk_level = "low"
    session.summary = "written"
    reply = Message(session=session, role="assistant", text="hello", reply_to=user_message)
    missing = ChatSession(pk=session.pk + 1000, summary="none")

    results = rows_write(
        [
            (*update_statement(user_message, ["risk_level"], using=db_alias), 0),
            (*insert_statement(reply, using=db_alias), 1),
            (*_returning_update(missing, db_alias), 2),
            (*_returning_update(session, db_alias), 2),
        ],
        using=db_alias,
    )

    assert results[0] is None and results[2] is None
    assert results[3] == (session.pk, "written")
    mark_stored(reply, results[1][0], using=db_alias)
    stored = Message.objects.using(db_alias).get(pk=reply.pk)
    assert (stored.text, stored.reply_to_id) == ("hello", user_message.pk)
    assert Message.objects.using(db_alias).get(pk=user_message.pk).risk_level == "low"

    # One transaction: a failing part (the reply again: one reply per message) undoes the rest.
    user_message.risk_level = "high"
    duplicate = Message(session=session, role="assistant", text="x", reply_to=user_message)
    with pytest.raises(IntegrityError), transaction.atomic(using=db_alias):
        rows_write(
            [
                (*update_statement(user_message, ["risk_level"], using=db_alias), 0),
                (*insert_statement(duplicate, using=db_alias), 1),
            ],
            using=db_alias,
        )
    assert Message.objects.using(db_alias).get(pk=user_message.pk).risk_level == "low"


def _returning_update(session, db_alias):
    sql, params = update_statement(session, ["summary"], using=db_alias)
    return f'{sql} RETURNING "id", "summary"', params


def test_nothing_listens_to_save_signals_of_the_models_written_this_way():
    # row_insert / row_update send no signals: a receiver added for these models would be skipped.
    from django.db.models.signals import post_save, pre_save

    for model in (ChatSession, Message):
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model
