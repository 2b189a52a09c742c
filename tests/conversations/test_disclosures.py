"""Situations a user mentions in passing are heard: drinking or using to cope, losing one's
home, sleepless nights with feeling unreal, being mistreated, someone else in danger, fear of
losing control. And support services asked for (or a yes to Ari's offer) are shown."""

from __future__ import annotations

import pytest

from conversations.content.bank import reply_bank, split_sentences
from conversations.models import Message
from conversations.services import chat_turn_run, session_create
from conversations.services.filter.cues import text_has_safety_question
from conversations.understanding.disclosures import (
    DisclosureFileError,
    disclosure_of,
    disclosures_load,
    shipped_disclosures,
)
from conversations.understanding.requests import offers_resources, wants_resources
from tests.conversations.conftest import FixedRisk
from tests.conversations.helpers import composed_reply

DISCLOSED = [
    (
        "I've been drinking every night since the divorce, it's the only way I can sleep.",
        "substance_coping",
    ),
    ("Honestly I smoke weed more and more just to get through the week.", "substance_coping"),
    ("I started drinking again after six years sober.", "substance_coping"),
    ("We got evicted on Friday and I'm sleeping in my car.", "housing"),
    ("I've been sofa surfing for a month and have nowhere to live.", "housing"),
    ("My landlord kicked me out and I'm homeless now.", "housing"),
    ("I just have to sort some things out and then I won't be homeless.", "housing"),
    ("I have tried drinking alcohol but nothing has helped so far.", "substance_coping"),
    ("I don't want to break up my family but I can't take the mistreatment.", "abuse"),
    ("Her son keeps asking for money and they manipulate her.", "someone_at_risk"),
    ("I haven't slept in four nights and everything feels unreal.", "unreal_sleep"),
    (
        "Barely sleeping lately, I feel like I'm watching myself from outside my body.",
        "unreal_sleep",
    ),
    ("My husband takes my bank card and won't let me see my sister.", "abuse"),
    ("She screams at me and pushed me into the door last week.", "abuse"),
    ("I've been verbally abused by my dad for months and I'm scared to go home.", "abuse"),
    ("My best friend gave away all her things and said goodbye to everyone.", "someone_at_risk"),
    ("I think my gran's carer is mistreating her, she has bruises.", "someone_at_risk"),
    ("My brother said he wants to end it and I don't know what to do.", "someone_at_risk"),
    ("I'm scared of what I might do if I snap at him again.", "losing_control"),
    ("When the baby screams I don't trust my hands anymore.", "losing_control"),
    ("I'm afraid I'll lose control of my temper with the kids.", "losing_control"),
    ("I shoved my girlfriend in a jealous rage last night.", "losing_control"),
]
NOT_DISCLOSED = [
    "I drink coffee every morning before work.",
    "We went for drinks after the exam and it was fun.",
    "My husband was lying about drinking again.",
    "I volunteer at a homeless shelter on Sundays.",
    "The new flat is tiny but it's home now.",
    "I couldn't sleep last night because of the storm.",
    "My dad hit me when I was a kid, but we've talked it through.",
    "My friend is planning a surprise party and I'm nervous.",
    "I'm afraid of my husband leaving me.",
    "In the game my character loses control and attacks everyone.",
    "I failed my driving test this morning and I can't stop shaking.",
    "I can't trust myself around chocolate.",
    "I tried drinking kombucha and it helps my gut.",
    "Things are bad but at least I ain't homeless.",
    "I pushed him away because I was angry and hurt.",
    "I hit him in the game and got mad when we lost.",
]


@pytest.mark.parametrize(("text", "family"), DISCLOSED)
def test_a_disclosure_is_recognised(text, family):
    assert disclosure_of(text) == family


@pytest.mark.parametrize("text", NOT_DISCLOSED)
def test_everyday_words_are_not_a_disclosure(text):
    assert disclosure_of(text) is None


def test_a_bad_entry_in_the_disclosures_file_is_named(tmp_path):
    path = tmp_path / "disclosures.yaml"
    path.write_text(
        "version: t\nfamilies: [{name: housing}]\n"
        "entries:\n  - {id: housing.x, family: housing, all: ['(unclosed']}\n"
    )
    with pytest.raises(DisclosureFileError, match=r"housing\.x.*bad pattern"):
        disclosures_load(path)
    path.write_text(
        "version: t\nfamilies: [{name: housing}]\n"
        "entries:\n  - {id: a.x, family: money, all: [x]}\n"
    )
    with pytest.raises(DisclosureFileError, match="family must be one of"):
        disclosures_load(path)


def _reply(text, history=(), step="mood", risk_level="low", session_type="check_in"):
    return composed_reply(
        text, history, step=step, risk_level=risk_level, session_type=session_type
    )


@pytest.mark.parametrize(("text", "family"), DISCLOSED[::3])
def test_a_disclosure_is_acknowledged_instead_of_the_exercise(text, family):
    reply = _reply(text, session_type="micro_practice", step="practice")
    validation, told = reply.details["parts"]
    assert told.split("-disclosure-")[1].startswith(family)
    assert reply.details["disclosure"] == family and reply.details["hold_flow"] is True
    assert reply.details["opens_with"] == "validation"
    asks = shipped_disclosures().family(family).safety_check
    assert text_has_safety_question(reply.text) is asks
    exercise = {p.text for p in reply_bank().get("move", "micro_practice.practice")}
    assert not any(move in reply.text for move in exercise)


def test_a_disclosure_is_acknowledged_once_per_session_and_not_asked_about_twice():
    text = "I've been drinking every night to cope with it all."
    first = _reply(text, risk_level="medium")
    assert first.details["disclosure"] == "substance_coping"
    assert sum(map(text_has_safety_question, split_sentences(first.text))) == 1  # asked once
    history = [("user", text), ("assistant", first.text)]
    # Said again: heard already, the flow goes on.
    again = _reply("Still drinking every night, to be honest.", history, step="reflect")
    assert again.details["disclosure"] == "" and again.details["hold_flow"] is False
    # Another family after the user said they are safe: acknowledged without asking again.
    history += [
        ("user", "I'm safe, thanks for asking."),
        ("assistant", "Thank you for telling me."),
    ]
    later = _reply("And I haven't slept for three nights, nothing feels real.", history)
    assert later.details["disclosure"] == "unreal_sleep"
    assert not text_has_safety_question(later.text)
    assert len(split_sentences(later.text)) >= 2


def test_every_acknowledgement_keeps_its_sentences_but_the_question_when_answered():
    from conversations.backends.generation.composed import without_safety_question

    for family in shipped_disclosures().families:
        for part in reply_bank().get("disclosure", family.name):
            kept = without_safety_question(part)
            assert not text_has_safety_question(kept.text)
            assert split_sentences(kept.text)[0] == split_sentences(part.text)[0]


@pytest.mark.parametrize(
    ("text", "last_reply", "wanted"),
    [
        ("Can you show me some services?", "", True),
        ("who can I call about this", "", True),
        ("yes please", "If you'd like, I can show you some services that help with this.", True),
        ("Yes.", "Whenever you want, I can share a few services that do exactly that.", True),
        ("no thanks", "If you'd like, I can show you some services that help with this.", False),
        ("yes", "Are you ready to look at this together?", False),
        # The safety question asked beside the offer is what a "yes, I'm safe" answers.
        (
            "Yes, I'm safe. It's just been a heavy few weeks.",
            "Are you safe? I can show you some services.",
            False,
        ),
        ("yes ok", "Are you safe? I can show you some services.", False),
        ("I need to talk about my sister.", "", False),
    ],
)
def test_support_services_asked_for_or_accepted(text, last_reply, wanted):
    assert wants_resources(text, last_reply) is wanted


def test_every_offer_in_the_bank_is_recognised_as_an_offer():
    """Each acknowledgement offers services; a yes to it must bring them."""
    for family in shipped_disclosures().families:
        for part in reply_bank().get("disclosure", family.name):
            assert offers_resources(part.text), part.id


def test_a_yes_to_the_offer_gets_the_services_introduced_not_a_validation():
    offer = _reply("I got evicted and I'm sleeping in my car.")
    reply = _reply("yes please", [("user", "I got evicted"), ("assistant", offer.text)])
    assert reply.details["request"] == "resources"
    (only,) = reply.details["parts"]
    assert only.startswith("w10-request-resources-") and reply.details["hold_flow"] is True


def test_through_the_chat_turn_a_disclosure_is_heard_whatever_the_backend(chat_ready, enduser):
    """The approved-content backend serves (the tests' default): the disclosure still gets the
    approved acknowledgement; the flow waits a turn; a yes to the offer shows the catalogue."""
    session = session_create(user=enduser, session_type="gentle_deep")
    first = chat_turn_run(
        session=session,
        text="Work is awful and I've been drinking every night to get through it.",
        safety_classifier=FixedRisk("low"),
    )
    assert first.reply.provenance["backend"] == "composed"
    assert first.reply.provenance["disclosure"] == "substance_coping"
    assert text_has_safety_question(first.reply.text)
    assert first.reply.resources == []
    session.refresh_from_db()
    assert session.flow_step == first.reply.flow_step == "validate"  # held: said next time

    second = chat_turn_run(session=session, text="yes please", safety_classifier=FixedRisk("low"))
    assert second.reply.resources  # the catalogue's services, shown with the reply
    names = {r["name"] for r in second.reply.resources}
    assert all(name not in second.reply.text for name in names)  # listed, not written by Ari
    assert Message.objects.filter(session=session, role=Message.Role.USER).count() == 2


def test_a_disclosure_the_crisis_reply_answered_is_acknowledged_at_the_next_reply():
    """The crisis reply cannot name what was disclosed ("my friend is planning something" read
    as high): once the conversation goes on, Ari's next reply acknowledges it, once."""
    history = [
        ("user", "I'm seeking support because I think my friend is planning something."),
        ("assistant", "I'm really sorry you're in this much pain. Are you safe right now?"),
        ("user", "I'm safe right now"),
        ("assistant", "Thank you for letting me know. Would you like to keep talking?"),
    ]
    reply = _reply("Okay, I'm ready.", history, session_type="micro_practice", step="practice")
    assert reply.details["disclosure"] == "someone_at_risk"
    history += [("user", "Okay"), ("assistant", reply.text)]
    later = _reply("It helped a bit.", history)
    # Not acknowledged twice; the question about the friend, left unanswered, is asked again.
    assert later.details["disclosure"] == "someone_at_risk.unanswered"
    history += [("user", "It helped a bit."), ("assistant", later.text)]
    assert _reply("She's okay, she's at her mum's.", history).details["disclosure"] == ""


WORRY = "My best friend keeps saying she wants to die and she gave her things away."


@pytest.mark.parametrize(
    ("answer", "comes_back"),
    [
        ("I did the breathing, my chest feels tight.", True),
        ("Work has been a lot this week honestly.", True),
        ("She's with her mum tonight.", False),
        ("I called him and he picked up, he's okay.", False),
        ("No, I don't think it's that serious.", False),
        ("Yes please, show me.", False),
        ("I'm not sure.", False),
    ],
)
def test_a_question_about_another_person_left_unanswered_is_asked_again_once(answer, comes_back):
    """Ari asked whether the other person is in danger; an answer that speaks of something else
    brings Ari back to them (once, in other words, before any exercise); an answer about them,
    a yes, a no or a "not sure" does not."""
    first = _reply(WORRY)
    assert first.details["disclosure"] == "someone_at_risk"
    history = [("user", WORRY), ("assistant", first.text)]
    reply = _reply(answer, history, step="reflect")
    again = reply_bank().get("disclosure", "someone_at_risk.unanswered")
    assert any(part.text in reply.text for part in again) is comes_back
    if comes_back:
        assert reply.details["disclosure"] == "someone_at_risk.unanswered"
        assert reply.details["opens_with"] == "validation" and reply.details["hold_flow"]
        assert split_sentences(reply.text)[0] not in first.text
        # Once: a second answer about something else goes on with the flow.
        history += [("user", answer), ("assistant", reply.text)]
        later = _reply("Anyway, I slept badly again.", history, step="reflect")
        assert not any(part.text in later.text for part in again)
        assert later.details["hold_flow"] is False


def test_every_follow_up_about_another_person_asks_about_them_and_names_no_service():
    parts = reply_bank().get("disclosure", "someone_at_risk.unanswered")
    assert len(parts) >= 8
    for part in parts:
        assert "?" in part.text
        assert not any(ch.isdigit() for ch in part.text)  # no number, no invented hotline
