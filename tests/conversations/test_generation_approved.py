"""The ``approved`` backend: only clinician-approved text, chosen by step and similarity."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import GenerationError
from conversations.backends.generation.approved import (
    RETURNING_TAG,
    ApprovedContentGenerator,
    approved_index_get,
    dialogue_pairs,
)
from conversations.flows import FLOWS, flow_first_step
from conversations.services import chat_turn_run, session_create, session_end
from evaluation.models import SeedDialogue
from tests.conversations.conftest import FixedRisk
from tests.factories import SeedDialogueFactory

pytestmark = pytest.mark.django_db


def request(text, session_type="gentle_deep", step="validate", **extra):
    return GenerationRequest(
        user_text=text, session_type=session_type, flow_step=step, persona="", **extra
    )


def approved_replies() -> set[str]:
    return {
        pair.reply
        for dialogue in SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED)
        for pair in dialogue_pairs(dialogue)
    }


def dialogue(user, reply, *, state="approved", session_type="gentle_deep", step="validate"):
    return SeedDialogueFactory(
        title="test",
        messages=[{"role": "user", "content": user}, {"role": "assistant", "content": reply}],
        session_type=session_type,
        flow_step=step,
        state=state,
    )


@pytest.mark.parametrize(
    ("session_type", "step"),
    [(session_type, step) for session_type, steps in FLOWS.items() for step in steps]
    + [("gentle_deep", "consent_declined")],
)
@pytest.mark.parametrize(
    "text", ["I feel like nothing I do is good enough", "ok", "Why does this keep happening?"]
)
def test_every_reply_is_approved_text_for_the_step(starter_content, session_type, step, text):
    reply = ApprovedContentGenerator().generate(request(text, session_type, step))

    assert reply.text in approved_replies()
    source = SeedDialogue.objects.get(pk=reply.source_dialogue_id)
    assert source.state == SeedDialogue.State.APPROVED
    assert (source.session_type, source.flow_step) == (session_type, step)
    assert reply.backend == "approved"


def test_most_similar_dialogue_is_chosen(starter_content):
    reply = ApprovedContentGenerator().generate(
        request("I procrastinate on everything and then I hate myself for it")
    )
    source = SeedDialogue.objects.get(pk=reply.source_dialogue_id)
    assert source.title == "Procrastination and self-blame"
    assert reply.details["similarity"] > 0.5


def test_typos_still_find_the_right_dialogue(starter_content):
    reply = ApprovedContentGenerator().generate(
        request("i procrastnate on evrything and then hate myslf for it")
    )
    assert SeedDialogue.objects.get(pk=reply.source_dialogue_id).title.startswith("Procrast")


def test_generic_template_is_used_when_nothing_specific_is_similar(starter_content):
    reply = ApprovedContentGenerator().generate(request("zzz qqq", step="root_belief"))
    source = SeedDialogue.objects.get(pk=reply.source_dialogue_id)
    assert "template" in source.tags
    assert reply.details["match"].endswith("_template")


def test_reply_already_used_in_the_session_is_avoided(starter_content):
    text = "I procrastinate on everything and then I hate myself for it"
    first = ApprovedContentGenerator().generate(request(text))
    second = ApprovedContentGenerator().generate(
        request(text, history=(("user", text), ("assistant", first.text)))
    )
    assert second.text != first.text
    assert second.text in approved_replies()


@pytest.mark.parametrize("state", ["draft", "in_review", "rejected"])
def test_unapproved_dialogue_is_never_used_even_when_it_matches_exactly(starter_content, state):
    dialogue("my unique sentence about purple elephants", "Unreviewed words.", state=state)
    reply = ApprovedContentGenerator().generate(
        request("my unique sentence about purple elephants")
    )
    assert reply.text != "Unreviewed words."


def test_index_is_rebuilt_when_a_dialogue_is_approved_and_when_it_is_rejected(starter_content):
    text = "my unique sentence about purple elephants"
    before = approved_index_get()
    assert approved_index_get() is before  # nothing changed: the cached index is reused

    new = dialogue(text, "Purple elephants sound like a lot to carry.", state="draft")
    assert approved_index_get() is before  # drafts do not count
    new.state = SeedDialogue.State.APPROVED
    new.save()
    assert ApprovedContentGenerator().generate(request(text)).source_dialogue_id == new.pk
    assert approved_index_get() is not before

    new.state = SeedDialogue.State.REJECTED
    new.save()
    assert ApprovedContentGenerator().generate(request(text)).source_dialogue_id != new.pk


def test_editing_an_approved_dialogue_is_picked_up(starter_content):
    text = "my unique sentence about purple elephants"
    approved = dialogue(text, "First wording.")
    assert ApprovedContentGenerator().generate(request(text)).text == "First wording."
    approved.messages = [
        {"role": "user", "content": text},
        {"role": "assistant", "content": "Second wording."},
    ]
    approved.save()
    assert ApprovedContentGenerator().generate(request(text)).text == "Second wording."


def test_session_type_without_content_borrows_the_same_step_elsewhere(db):
    dialogue("hello there", "Only this reply exists.", session_type="check_in", step="close")
    reply = ApprovedContentGenerator().generate(request("hi", "gentle_deep", "close"))
    assert reply.text == "Only this reply exists."
    assert reply.details["match"] == "step_other_type"


def test_no_approved_content_is_a_generation_error(db):
    with pytest.raises(GenerationError) as error:
        ApprovedContentGenerator().generate(request("hello"))
    assert error.value.reason == "no_approved_content"


# --- Returning users: the previous session's summary ------------------------------------------

SUMMARY = (
    "Last time: a gentle deep dive (6 messages). Themes: work, self-worth. Reached: reframe. "
    "Experiment offered: \u201cThis week, notice one moment you handled well.\u201d"
)
ALL_STEPS = [(t, step) for t, steps in FLOWS.items() for step in steps] + [
    ("gentle_deep", "consent_declined")
]
OPENINGS = ["Hi", "hello again", "Hi Ari, I'm back.", "ok", "not sure where to start"]


def source_of(reply) -> SeedDialogue:
    return SeedDialogue.objects.get(pk=reply.source_dialogue_id)


def returning_user_turns() -> list[str]:
    return [
        pair.user_text
        for dialogue in SeedDialogue.objects.filter(tags__contains=[RETURNING_TAG])
        for pair in dialogue_pairs(dialogue)
    ]


@pytest.mark.parametrize("session_type", list(FLOWS))
@pytest.mark.parametrize("text", OPENINGS)
def test_returning_users_first_reply_welcomes_them_back(starter_content, session_type, text):
    step = flow_first_step(session_type)
    reply = ApprovedContentGenerator().generate(
        request(text, session_type, step, previous_summary=SUMMARY)
    )

    source = source_of(reply)
    assert RETURNING_TAG in source.tags
    assert (source.session_type, source.flow_step) == (session_type, step)
    assert reply.text in approved_replies()
    assert reply.text.startswith("Welcome back")
    assert reply.details["used_previous_summary"] is True
    assert reply.details["match"] == "step_returning"


def test_starter_content_welcomes_back_on_every_first_step(starter_content):
    for session_type in FLOWS:
        returning = SeedDialogue.objects.filter(
            session_type=session_type,
            flow_step=flow_first_step(session_type),
            tags__contains=[RETURNING_TAG],
            state=SeedDialogue.State.APPROVED,
        )
        assert returning.count() >= 2, session_type


def test_a_clear_match_still_wins_on_a_returning_users_first_reply(starter_content):
    """Validate first: what the user says now outweighs the welcome back."""
    reply = ApprovedContentGenerator().generate(
        request(
            "I procrastinate on everything and then I hate myself for it",
            previous_summary=SUMMARY,
        )
    )
    assert source_of(reply).title == "Procrastination and self-blame"
    assert reply.details["used_previous_summary"] is True


@pytest.mark.parametrize(("session_type", "step"), ALL_STEPS)
def test_first_time_user_is_never_welcomed_back(starter_content, session_type, step):
    texts = [*OPENINGS, *returning_user_turns(), "I'm back and I feel awful"]
    for text in texts:
        for prefs in ({}, {"tone": "direct", "session_length": "short"}):
            reply = ApprovedContentGenerator().generate(
                request(text, session_type, step, preferences=prefs)
            )
            assert RETURNING_TAG not in source_of(reply).tags, (text, prefs)
            assert "used_previous_summary" not in reply.details
            assert reply.text in approved_replies()


@pytest.mark.parametrize(("session_type", "step"), ALL_STEPS)
def test_later_replies_are_unaffected_by_the_summary(starter_content, session_type, step):
    history = (("user", "Hi"), ("assistant", "Thank you for telling me how you're arriving."))
    for text in [*OPENINGS, *returning_user_turns(), "I feel like nothing I do is good enough"]:
        without = ApprovedContentGenerator().generate(
            request(text, session_type, step, history=history)
        )
        with_summary = ApprovedContentGenerator().generate(
            request(text, session_type, step, history=history, previous_summary=SUMMARY)
        )
        assert with_summary.text == without.text, text
        assert with_summary.details == without.details
        assert "used_previous_summary" not in with_summary.details
        assert RETURNING_TAG not in source_of(with_summary).tags


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    step=st.sampled_from(ALL_STEPS),
    text=st.text(min_size=1, max_size=80) | st.sampled_from(OPENINGS),
    summary=st.text(max_size=120).map(lambda s: f"Last time: a check-in. Themes: {s}.")
    | st.sampled_from(["", SUMMARY]),
    first=st.booleans(),
)
def test_reply_is_always_approved_text_verbatim(starter_content, step, text, summary, first):
    """Whatever the summary says (user words included), it only changes which approved reply
    is chosen: its words never reach the reply."""
    session_type, flow_step = step
    history = () if first else (("user", "Hi"), ("assistant", "Earlier reply."))
    reply = ApprovedContentGenerator().generate(
        request(text, session_type, flow_step, history=history, previous_summary=summary)
    )
    assert reply.text in approved_replies()
    is_returning = RETURNING_TAG in source_of(reply).tags
    assert not is_returning or (first and summary.strip())
    assert reply.details.get("used_previous_summary", False) == bool(first and summary.strip())


def test_chat_turn_records_that_the_previous_summary_was_used(chat_ready, enduser):
    risk = FixedRisk("none")
    first = session_create(user=enduser, session_type="check_in")
    chat_turn_run(session=first, text="Stressed. Work is a lot this week.", safety_classifier=risk)
    session_end(session=first)

    second = session_create(user=enduser, session_type="check_in")
    assert second.previous_summary
    opening = chat_turn_run(session=second, text="Hi", safety_classifier=risk).reply
    later = chat_turn_run(session=second, text="Hi", safety_classifier=risk).reply

    assert opening.provenance["used_previous_summary"] is True
    assert RETURNING_TAG in SeedDialogue.objects.get(pk=opening.provenance["dialogue_id"]).tags
    assert "used_previous_summary" not in later.provenance
    assert RETURNING_TAG not in SeedDialogue.objects.get(pk=later.provenance["dialogue_id"]).tags
