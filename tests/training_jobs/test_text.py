"""Text preparation shared by training and serving: references to the previous conversation."""

from __future__ import annotations

import pytest

from training_jobs.ml.text import clean, segment_plan, training_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I'm back. Something from last time is still on my mind.",
            "I'm back. Something from our previous chat is still on my mind.",
        ),
        ("Since last time,  things got better", "Since our previous chat, things got better"),
        ("since LAST time I've slept well", "since our previous chat I've slept well"),
        ("Last time we talked about my boss.", "when we talked about my boss."),
        ("the last time i spoke to you", "when i spoke to you"),
    ],
)
def test_a_reference_to_the_previous_conversation_is_put_in_neutral_words(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I wanted to talk to someone one last time before I go.",
        "This is the last time you'll hear from me.",
        "For the last time, goodbye.",
        "since last time I tried nothing has changed",  # may be about an attempt: as written
        "Since the last time I tried, nothing changed",
        "the last time I saw her",
    ],
)
def test_every_other_last_time_is_scored_as_written(text):
    assert clean(text) == text


def test_training_and_serving_prepare_the_text_alike():
    row = {"text": "Something from last time", "history": ["since last time, meh"]}
    served = [segment for _, segment in segment_plan(row["text"], row["history"])]
    assert training_text(row) in served
    assert "last time" not in training_text(row)
