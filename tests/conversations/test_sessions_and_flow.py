"""Session services, the flow state machine and the safe/consent readers."""

from __future__ import annotations

import re

import pytest

from ari_review.api.errors import ApplicationError
from conversations.flows import (
    flow_next_step,
)
from conversations.services import chat_turn_run, session_create, session_end, session_rate
from conversations.services.safety_mode import user_says_safe
from tests.conversations.conftest import FixedRisk


def test_unknown_session_type_is_refused(enduser):
    with pytest.raises(ApplicationError, match="Unknown session type"):
        session_create(user=enduser, session_type="therapy")


def test_unknown_preference_is_refused(enduser):
    with pytest.raises(ApplicationError, match="Unknown preference"):
        session_create(user=enduser, session_type="check_in", preferences={"colour": "blue"})


def test_summary_is_two_or_three_sentences_with_topic_feeling_step_and_safety(chat_ready, enduser):
    session = session_create(user=enduser, session_type="gentle_deep")
    risk = FixedRisk("none", overrides={"I want to end my life tonight": "high"})
    for text in (
        "My manager criticised my work and I keep replaying the meeting.",
        "The meeting with my manager keeps coming back.",
        "Yes, I'm ready.",
        "Last week my boss criticized my report in front of everyone and I just froze.",
        "That I'm a failure.",
        "My sister would say I'm always there for her.",
    ):
        chat_turn_run(session=session, text=text, safety_classifier=risk)
    summary = session_end(session=session).summary

    sentences = re.findall(r"[^.!?\u201d]+[.!?][\u201d]?", summary)
    assert 2 <= len(sentences) <= 3, summary
    assert summary.startswith("We talked about work")
    assert "We ended with one small experiment: \u201c" in summary
    assert "Themes" not in summary and "manager" not in summary  # no keywords, no quoting
    assert "safety" not in summary.lower()

    other = session_create(user=enduser, session_type="check_in")
    chat_turn_run(session=other, text="I want to end my life tonight", safety_classifier=risk)
    other_summary = session_end(session=other).summary
    assert other_summary.startswith("We did a short check-in on how you were arriving")
    assert other_summary.endswith(
        "We also checked in about your safety, and the helplines are there whenever you need them."
    )


def test_empty_session_has_an_empty_summary(enduser):
    session = session_create(user=enduser, session_type="check_in")
    assert session_end(session=session).summary == ""


@pytest.mark.parametrize("stars", [0, 6, True, "5", 2.5])
def test_rating_needs_whole_stars_from_one_to_five(enduser, stars):
    session = session_end(session=session_create(user=enduser, session_type="check_in"))
    with pytest.raises(ApplicationError):
        session_rate(session=session, stars=stars)


def test_long_sessions_stay_longer_on_the_story():
    step = {"session_type": "gentle_deep", "step": "story", "session_length": "long"}
    assert flow_next_step(replies_on_step=1, **step) == "story"
    assert flow_next_step(replies_on_step=2, **step) == "root_belief"
    assert flow_next_step(replies_on_step=1, **{**step, "session_length": "short"}) == (
        "root_belief"
    )


def test_close_is_the_last_step():
    assert flow_next_step(session_type="check_in", step="close", replies_on_step=3) == "close"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("yes", True),
        ("Yes, I'm safe now", True),
        ("I'm safe", True),
        ("i feel safe right now", True),
        ("I'm not going to hurt myself", True),
        ("I'm okay now, thanks", False),  # does not say safe: asked once more
        ("I'm not safe", False),
        ("I don't feel safe", False),
        ("no", False),
        ("I'm not sure", False),
        ("help me", False),
        ("I don't know", False),
        ("yes I want to die", False),
    ],
)
def test_user_says_safe_is_conservative(text, safe):
    assert user_says_safe(text) is safe
