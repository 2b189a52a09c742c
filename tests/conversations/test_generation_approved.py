"""The ``approved`` backend: only clinician-approved text, chosen by step and similarity."""

from __future__ import annotations

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import GenerationError
from conversations.backends.generation.approved import (
    ApprovedContentGenerator,
    approved_index_get,
    dialogue_pairs,
)
from conversations.flows import FLOWS
from evaluation.models import SeedDialogue

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
    return SeedDialogue.objects.create(
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
