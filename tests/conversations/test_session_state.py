"""A session's state after a turn (highest risk, lowest safety confidence, flow step, safety-check
mode), as the turn writes it under the session's lock, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import ChatSession
from conversations.services.turn.persist import session_state_apply
from tests.conftest import BOTH_DATABASES, enduser_in

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.fixture
def session(db_alias):
    return ChatSession.objects.using(db_alias).create(
        user_id=enduser_in(db_alias, "state_user").pk,
        session_type="gentle_deep",
        flow_step="validate",
    )


def _turn(db_alias, session, level="none", score=0.0, **changes) -> ChatSession:
    locked = ChatSession.objects.using(db_alias).get(pk=session.pk)
    returned = session_state_apply(locked, level=level, score=score, **changes)
    stored = ChatSession.objects.using(db_alias).get(pk=session.pk)
    assert {f.attname: getattr(returned, f.attname) for f in stored._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in stored._meta.concrete_fields
    }
    return stored


def test_highest_risk_and_lowest_confidence_are_kept_and_the_flow_step_moves(db_alias, session):
    first = _turn(db_alias, session, "medium", 0.3, next_flow_step="consent")
    assert (first.max_risk_level, first.min_safety_confidence, first.flow_step) == (
        "medium",
        0.7,
        "consent",
    )

    calmer = _turn(db_alias, session, "low", 0.05)  # confidence 0.95, lower risk, no new step
    assert (calmer.max_risk_level, calmer.min_safety_confidence, calmer.flow_step) == (
        "medium",
        0.7,
        "consent",
    )

    unsure = _turn(db_alias, session, "high", 0.45, next_flow_step="story")
    assert (unsure.max_risk_level, unsure.min_safety_confidence, unsure.flow_step) == (
        "high",
        0.55,
        "story",
    )
    assert not unsure.safety_mode and not unsure.flagged  # only an emergency turn enters it


def test_safety_check_mode_is_entered_once_and_left_when_the_user_says_they_are_safe(
    db_alias, session
):
    before = timezone.now()
    entered = _turn(db_alias, session, "high", 0.9, enter_safety_mode=True)
    assert entered.safety_mode and entered.flagged
    assert before - timedelta(seconds=1) <= entered.safety_mode_since <= timezone.now()
    assert (entered.safety_resolved_at, entered.safety_resolution) == (None, "")

    again = _turn(db_alias, session, "high", 0.9, enter_safety_mode=True)
    assert again.safety_mode_since == entered.safety_mode_since  # still the first time

    left = _turn(db_alias, session, "none", 0.0, leave_safety_mode=True)
    assert not left.safety_mode and left.flagged  # the flag stays for the review queue
    assert left.safety_resolution == "user_safe"
    assert left.safety_resolved_at >= entered.safety_mode_since

    not_in_mode = _turn(db_alias, session, "none", 0.0, leave_safety_mode=True)
    assert not_in_mode.safety_resolved_at == left.safety_resolved_at

    reentered = _turn(db_alias, session, "high", 0.9, enter_safety_mode=True)
    assert reentered.safety_mode and reentered.safety_mode_since >= left.safety_resolved_at
    assert (reentered.safety_resolved_at, reentered.safety_resolution) == (None, "")
