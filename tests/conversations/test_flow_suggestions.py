"""Suggested replies on the flow's questions (consent, practice steps): offered in the API and
as buttons, each read as the answer it says, and consent asked again in other words at most
once before the flow moves on gently."""

from __future__ import annotations

import pytest

from conversations.flows import SUGGESTED_REPLIES, flow_step_for_reply
from conversations.services import chat_turn_run, session_create
from conversations.understanding.answers import Answer, answer_kind

EXPECTED_ANSWERS = {
    "Yes, let's look at it": Answer.YES,
    "Not right now": Answer.NO,
    "I'm not sure": Answer.UNSURE,
    "Yes, slowly": Answer.YES,
    "Not today": Answer.NO,
}


@pytest.mark.parametrize(
    "suggestion", [*SUGGESTED_REPLIES["consent"], *SUGGESTED_REPLIES["consent_reask"]]
)
def test_each_consent_suggestion_reads_as_the_answer_it_says(suggestion):
    assert answer_kind(suggestion) == EXPECTED_ANSWERS[suggestion]


def test_consent_is_asked_again_once_in_other_words_then_the_flow_moves_on():
    first = flow_step_for_reply(
        session_type="gentle_deep", stored_step="story", previous_step="consent",
        user_text="I'm not sure",
    )  # fmt: skip
    assert first == "consent_reask"
    second = flow_step_for_reply(
        session_type="gentle_deep", stored_step="story", previous_step="consent_reask",
        user_text="I'm not sure",
    )  # fmt: skip
    assert second == "consent_declined"  # not asked a third time: respected, stays listening


@pytest.mark.django_db
def test_the_consent_question_comes_with_its_buttons_in_the_api(api_client, chat_ready, enduser):
    api_client.force_authenticate(enduser)
    session = session_create(user=enduser, session_type="gentle_deep")
    first = chat_turn_run(session=session, text="I keep feeling like I'm not good enough at work")
    assert first.reply.flow_step == "validate"
    assert first.reply.suggested_replies == []
    session.refresh_from_db()
    second = chat_turn_run(session=session, text="It happened again today in a meeting")
    assert second.reply.flow_step == "consent"
    assert second.reply.suggested_replies == list(SUGGESTED_REPLIES["consent"])
    detail = api_client.get(f"/api/v1/sessions/{session.public_id}/").json()
    assert detail["messages"][-1]["suggested_replies"] == list(SUGGESTED_REPLIES["consent"])

    session.refresh_from_db()
    unsure = chat_turn_run(session=session, text="I'm not sure")
    assert unsure.reply.flow_step == "consent_reask"
    assert unsure.reply.text != second.reply.text  # asked in other words
    if unsure.reply.provenance.get("safety_check_added"):
        # Ari also asked whether they are safe: no consent buttons under that question.
        assert unsure.reply.suggested_replies == []
    else:
        assert unsure.reply.suggested_replies == list(SUGGESTED_REPLIES["consent_reask"])
    session.refresh_from_db()
    gently = chat_turn_run(session=session, text="Not today")
    assert gently.reply.flow_step == "consent_declined"
    assert gently.reply.suggested_replies == []
