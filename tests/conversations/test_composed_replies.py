"""The default responder listens: flows that read the user's answer, the user's own words
turned to the second person, parts that never repeat a sentence in a session, and the gentle
safety question asked once and remembered."""

from __future__ import annotations

import json
import random
import re

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation.composed import ComposedGenerator
from conversations.content.bank import (
    FEELINGS,
    REQUEST_KEYS,
    BankError,
    bank_load,
    reply_bank,
    split_sentences,
)
from conversations.flows import (
    FLOWS,
    STORY_TOLD_WORDS,
    flow_next_step,
    flow_step_for_reply,
    told_words,
)
from conversations.services.filter.cues import text_has_safety_question
from conversations.understanding.answers import Answer, answer_kind, user_wants_to_close
from conversations.understanding.disclosures import shipped_disclosures
from conversations.understanding.phrases import key_phrase, second_person
from conversations.understanding.requests import Request, request_of
from tests.conversations.helpers import composed_reply

# (previous step, stored step, the user's answer) -> the step of the reply
GENTLE_DEEP = [
    ("consent", "story", "yes", "story"),
    ("consent", "story", "Yes, I'm ready.", "story"),
    ("consent", "story", "ok let's do it", "story"),
    ("consent", "story", "It started when I was a kid, my dad always yelled.", "story"),
    ("consent", "story", "no", "consent_declined"),
    ("consent", "story", "yes, but not today", "consent_declined"),
    ("consent", "story", "I'd rather not", "consent_declined"),
    ("consent", "story", "I'm not sure", "consent_reask"),
    ("consent", "story", "maybe", "consent_reask"),
    ("consent_reask", "story", "ok, slowly then", "story"),
    ("consent_reask", "story", "I still don't know", "consent_declined"),
    ("consent_reask", "story", "no", "consent_declined"),
    ("story", "root_belief", "Last week I froze in a meeting.", "root_belief"),
    # Ready before being asked: consent already given, Ari does not ask it.
    ("validate", "consent", "Yes, I'm ready to look at it.", "story"),
    ("validate", "consent", "Okay, let's look at it together", "story"),
    ("validate", "consent", "ok", "consent"),  # agreeing is not saying they are ready
    ("validate", "consent", "My sister stopped calling me after the wedding.", "consent"),
    ("validate", "consent", "I'm not ready to look at it", "consent"),
]


@pytest.mark.parametrize(("previous", "stored", "text", "step"), GENTLE_DEEP)
def test_gentle_deep_reads_the_answer(previous, stored, text, step):
    assert (
        flow_step_for_reply(
            session_type="gentle_deep", stored_step=stored, previous_step=previous, user_text=text
        )
        == step
    )


STORY = (
    "My sister stopped calling me after the wedding. When I texted her last Sunday she said she "
    "was busy, so I sat in the car outside her flat and cried, because we used to talk every "
    "single day."
)
ANSWERS = ["yes", "Okay, I'm ready.", "No, not today. I don't think I can go there."]


@pytest.mark.parametrize(
    ("previous", "text", "earlier", "step"),
    [
        ("consent", "yes", [STORY], "root_belief"),  # the story was told: not asked for again
        ("consent", "yes", [STORY[:60]], "story"),
        ("consent", "yes", ["It hurts.", *ANSWERS * 3], "story"),  # answers tell no story
        ("consent", "It started when I was a kid.", [STORY], "root_belief"),
        ("consent", "no", [STORY], "consent_declined"),
        ("consent", "not sure", [STORY], "consent_reask"),
        ("consent_reask", "ok, slowly", [STORY], "root_belief"),
        ("validate", "Yes, I'm ready to look at it.", [STORY], "root_belief"),
    ],
)
def test_gentle_deep_never_asks_for_the_story_twice(previous, text, earlier, step):
    assert told_words([STORY]) >= STORY_TOLD_WORDS > told_words([STORY[:60], *ANSWERS])
    stored = "story" if previous.startswith("consent") else "consent"
    assert (
        flow_step_for_reply(
            session_type="gentle_deep",
            stored_step=stored,
            previous_step=previous,
            user_text=text,
            earlier_user_texts=earlier,
        )
        == step
    )


def test_the_deep_dive_moves_on_after_consent_and_reaches_the_experiment():
    step, seen = "validate", []
    for _ in range(10):
        seen.append(step)
        step = flow_next_step(session_type="gentle_deep", step=step, replies_on_step=1)
    assert seen[:7] == list(FLOWS["gentle_deep"])
    for step in ("consent", "consent_reask"):
        assert flow_next_step(session_type="gentle_deep", step=step, replies_on_step=1) == "story"


@pytest.mark.parametrize(
    ("previous", "text", "step"),
    [
        ("mood", "I just want to feel a bit lighter", "reflect"),  # answers Ari: no goodbye
        ("reflect", "Some quiet, I think", "reflect_more"),
        ("reflect", "thanks, that's all for today", "close"),
        ("mood", "I have to go, bye", "close"),
        ("", "bye", "mood"),  # the first message is never a goodbye
    ],
)
def test_a_check_in_closes_when_the_user_says_so_or_the_arc_is_done(previous, text, step):
    stored = (
        flow_next_step(session_type="check_in", step=previous, replies_on_step=1)
        if previous
        else ""
    )
    assert (
        flow_step_for_reply(
            session_type="check_in", stored_step=stored, previous_step=previous, user_text=text
        )
        == step
    )


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("yes", Answer.YES),
        ("sure, let's look", Answer.YES),
        ("no", Answer.NO),
        ("not today", Answer.NO),
        ("I don't know", Answer.UNSURE),
        ("maybe?", Answer.UNSURE),
        ("My boss shouted at me again.", Answer.CONTENT),
    ],
)
def test_answer_kind(text, answer):
    assert answer_kind(text) is answer


def test_closing_signals():
    assert user_wants_to_close("ok that's enough for today, bye")
    assert not user_wants_to_close("I feel like I'm done with everything")  # not a goodbye


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (
            "I failed my driving test this morning and I can't stop shaking.",
            "you failed your driving test this morning",
        ),
        ("My boyfriend broke up with me by text.", "your boyfriend broke up with you by text"),
        ("Honestly I think my dad never listened to me", "your dad never listened to you"),
        ("So, um, I lost my job today.", "you lost your job today"),
        ("I'm anxious", None),  # only a feeling: nothing to reflect
        ("Do you think I am broken?", None),  # addressed to Ari
        ("Okay, I can try that.", None),  # an intention, not the situation
        # A harsh belief about oneself is reflected as a belief, never as a fact.
        ("That I always mess things up.", "part of you believes that you always mess things up"),
        (
            "Honestly it's all my fault that we split",
            "part of you believes that it's all your fault that you split",
        ),
        # A clause whose subject was cut off, a question or a clause with no situation in it
        # is not reflected ("It sounds like goes for the things you use to...").
        ("That goes for the things I use to calm down too.", None),
        ("Then I need to spend more and more.", None),
        (
            "What do I do if I fail again? My dad yelled at me for an hour",
            "your dad yelled at you for an hour",
        ),
        ("I hope so.", None),
        ("Honestly, I think I need to rest more.", None),
        ("Nothing specific, just in a very sad place I guess.", None),
        (
            "My flatmate moved out without telling me, I guess.",
            "your flatmate moved out without telling you",
        ),
        ("Hi there I'm feeling really sad.", None),  # only a feeling: named, not echoed
        ("I did it. My shoulders feel looser.", "your shoulders feel looser"),
        ("I just did it, twice over.", None),
        ("I know this sounds insane.", None),
        ("I'll keep working at it.", None),
        (
            "Maybe that I'm doing my best with what I have.",
            "you're doing your best with what you have",
        ),
        (
            "It's  going to   be hard to get my grade back",
            "it's going to be hard to get your grade back",
        ),
        # Two feelings named are still only feelings; thanks before a clause is not the clause.
        ("I'm feeling really sad and anxious because I failed a test", "you failed a test"),
        ("Thanks, I feel a bit better. Bye for now.", None),
        ("I\u2019m struggling with my job", "you're struggling with your job"),
        # A condition named as what one is reads as a feeling, not a diagnosis.
        (
            "I am depressed about the Covid-19 pandemic",
            "you have been feeling depressed about the Covid-19 pandemic",
        ),
    ],
)
def test_the_users_own_words_in_the_second_person(text, phrase):
    assert key_phrase(text) == phrase


def test_pronoun_turn():
    assert (
        second_person("I miss my mum and she misses me") == "you miss your mum and she misses you"
    )
    assert second_person("I'm sure we did our best") == "you're sure you did your best"


def test_the_bank_covers_every_feeling_and_step_from_several_writers():
    bank = reply_bank()
    for feeling in FEELINGS:
        parts = bank.get("validation", feeling)
        assert len({p.source for p in parts}) >= 3 and len(parts) >= 30, feeling
        assert any("phrase" in p.placeholders for p in parts)
        assert any(not p.placeholders for p in parts)
    for flow, steps in FLOWS.items():
        for step in steps:
            assert len(bank.get("move", f"{flow}.{step}")) >= 20, (flow, step)
    assert len(bank.get("safety_question", "medium")) >= 20
    for request in REQUEST_KEYS:
        assert len(bank.get("request", request)) >= 10, request
    for family in shipped_disclosures().families:
        parts = bank.get("disclosure", family.name)
        assert len(parts) >= 10, family.name
        # A medium-level family's acknowledgement asks gently whether the user is safe.
        assert all(text_has_safety_question(p.text) == family.safety_check for p in parts)


def test_a_bad_bank_row_is_named(tmp_path):
    good = {"id": "x-1", "slot": "validation", "key": "sad", "text": "That is sad.", "source": "x"}
    bad = {**good, "id": "x-2", "text": "About {name}, that's sad."}
    (tmp_path / "x.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(BankError, match=r"x\.jsonl:2: placeholder\(s\) \['name'\]"):
        bank_load(tmp_path)
    odd = {**good, "id": "x-3", "slot": "request", "key": "diagnosis"}
    (tmp_path / "x.jsonl").write_text(json.dumps(odd) + "\n")
    with pytest.raises(BankError, match=r"x\.jsonl:1: request 'diagnosis' is not one of"):
        bank_load(tmp_path)
    for row, problem in [
        ({**odd, "key": "advice.weather"}, "request 'advice.weather' is not one of"),
        ({**odd, "key": "advice.work", "when": "boss"}, "'when' must be a list of words"),
        ({**good, "slot": "disclosure", "key": "housing.later"}, "disclosure 'housing.later'"),
    ]:
        (tmp_path / "x.jsonl").write_text(json.dumps(row) + "\n")
        with pytest.raises(BankError, match=re.escape(f"x.jsonl:1: {problem}")):
            bank_load(tmp_path)


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("I just need to vent. Work has been awful.", Request.VENT),
        ("I don't want advice, I just want someone to listen", Request.VENT),
        ("Is it normal to still cry about it after a year?", Request.NORMAL),
        ("Am I overreacting?", Request.NORMAL),
        ("What's wrong with me?", Request.NORMAL),
        ("What should I do?", Request.ADVICE),
        ("Do you have any advice on how to cope with this?", Request.ADVICE),
        ("Should I tell my mum?", Request.ADVICE),
        ("how can i overcome it", Request.ADVICE),
        ("I have tried drinking but could you be having any other idea?", Request.ADVICE),
        ("I feel sad today.", None),
        ("I don't know if I should stay.", None),  # thinking aloud, not asking Ari
        ("I wonder how I got here.", None),
    ],
)
def test_what_the_user_asks_of_ari(text, asked):
    assert request_of(text) is asked


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("My sister stopped talking to me. What should I do?", "advice"),
        ("I just need to vent. My flatmate ate my food again.", "vent"),
        ("I still cry about my dog every night. Is that normal?", "normal"),
    ],
)
def test_what_the_user_asked_is_answered_before_the_move(text, asked):
    reply = composed_reply(text, step="mood", risk_level="none")
    assert reply.details["request"] == asked
    if asked == "advice":  # ideas that ask which fits: the flow's move waits a turn
        (validation, answer), move = reply.details["parts"], None
        assert reply.details["hold_flow"] and reply.text.count("?") == 1
    else:
        validation, answer, move = reply.details["parts"]
    # Advice is answered with ideas for the topic (the sister: family).
    key = "advice.family" if asked == "advice" else asked
    bank_text = {p.id: p.text for p in reply_bank().get("request", key)}[answer]
    assert bank_text.split("{")[0] in reply.text


def _advice_reply(text, history=()):
    return composed_reply(text, history, step="reflect", risk_level="low")


@pytest.mark.parametrize(
    ("text", "history", "key"),
    [
        ("My boss keeps piling deadlines on me. Any tips?", (), "advice.work"),
        # The topic was told earlier; the request alone names none.
        ("What should I do?", (("user", "I failed my driving test again."),), "advice.study"),
        ("What should I do?", (), "advice.general"),
    ],
)
def test_advice_asked_for_is_ideas_for_the_topic_offered_as_options(text, history, key):
    reply = _advice_reply(text, history)
    parts = {p.id: p for p in reply_bank().get("request", key)}
    answer = next(part for part in reply.details["parts"] if part in parts)
    assert parts[answer].text in reply.text
    assert parts[answer].text.rstrip().endswith("?")  # asks which fits: an option, not an order


def test_every_advice_part_stays_inside_the_coaching_lines():
    """Two ideas offered as options; no service, number, medication or order (the filter's
    rules run on every reply as well)."""
    from conversations.understanding.phrases import topic_ids

    for key in (*sorted(topic_ids()), "general"):
        parts = reply_bank().get("request", f"advice.{key}")
        assert len(parts) >= 6, key
        for part in parts:
            assert "?" in part.text and not any(ch.isdigit() for ch in part.text)
            assert not re.search(
                r"(?i)\b(?:you must|medication|pills?|dose|www|\.com)\b", part.text
            )


OPENINGS = [
    "I failed my driving test this morning and I can't stop shaking.",
    "I moved abroad for work and I have no friends here.",
    "My girlfriend broke up with me by text last night.",
    "I found a bald spot and I can't stop looking at it.",
    "It's my first Christmas without my wife.",
    "My boss yelled at me in front of everyone.",
    "I keep putting off my thesis and I hate myself for it.",
    "Money is so tight I can't sleep.",
]
FOLLOW_UPS = [
    "yes",
    "I'm not sure",
    "no",
    "It happened again yesterday at lunch.",
    "That I'm not good enough.",
    "Maybe I'm just tired.",
    "ok",
    "I guess so",
    "My mum always said I was too much.",
    "thanks",
    "What should I do about it?",
    "I just need to vent.",
    "Is this normal?",
]


def _play(generator, session_type, rng, turns=8, risk_level="none"):
    history, stored, previous, replies = [], "", "", []
    for turn in range(turns):
        text = rng.choice(OPENINGS) if turn == 0 else rng.choice(FOLLOW_UPS)
        step = flow_step_for_reply(
            session_type=session_type, stored_step=stored, previous_step=previous, user_text=text
        )
        reply = composed_reply(
            text,
            history,
            session_type=session_type,
            step=step,
            risk_level=risk_level,
            generator=generator,
        )
        history += [("user", text), ("assistant", reply.text)]
        replies.append(reply)
        stored = flow_next_step(session_type=session_type, step=step, replies_on_step=1)
        previous = step
    return replies


def test_no_sentence_twice_in_a_session_over_many_conversations():
    generator, rng = ComposedGenerator(), random.Random(7)
    for n in range(150):
        replies = _play(generator, list(FLOWS)[n % 3], rng)
        sentences = [s.lower() for r in replies for s in split_sentences(r.text)]
        assert len(sentences) == len(set(sentences)), [r.text for r in replies]
        assert all("{" not in r.text for r in replies)


def test_the_first_reply_reflects_the_users_own_words():
    reply = composed_reply("My girlfriend broke up with me by text last night.", risk_level="none")
    assert "your girlfriend broke up with you by text last night" in reply.text
    assert reply.details["own_words"] and reply.details["parts"][0].startswith("r")


def test_an_answer_to_the_safety_question_is_thanked_for_not_reflected():
    asked = "I hear you. I also want to gently check in: are you safe right now?"
    reply = composed_reply(
        "I'm safe, thanks for asking.",
        (("user", "Work has been crushing me lately."), ("assistant", asked)),
        step="reflect",
        risk_level="none",
    )
    assert reply.details["answered_safe"]
    assert reply.details["parts"][0].startswith("r6-safe-ack-")
    assert "thanks for asking" not in reply.text.lower()


def test_safe_after_a_disclosure_stays_with_the_thoughts_not_the_exercise():
    """Asked directly about disclosed suicidal thoughts, the user says they are safe: Ari does
    not move on to the practice (the blind reviewers rated that harmful); it stays with the
    thoughts and keeps support on offer, once."""
    direct = reply_bank().get("safety_question", "medium.suicidal_ideation")[0].text
    history = (
        ("user", "I'm having a lot of suicidal thoughts and there's no one I can talk to."),
        ("assistant", direct),
    )
    reply = ComposedGenerator().generate(
        GenerationRequest(
            user_text="I'm safe right now, I just needed to get it out.",
            session_type="micro_practice",
            flow_step="practice",
            persona="",
            history=history,
            preferences={},
            previous_summary="",
            risk_level="low",
        )
    )
    assert [p[:19] for p in reply.details["parts"]] == ["r7-after-disclosure"]
    assert "breath" not in reply.text.lower()
    assert not text_has_safety_question(reply.text)  # not asked again


def test_the_medium_safety_question_is_asked_once_and_remembered():
    generator = ComposedGenerator()
    from conversations.services.filter import text_has_safety_question

    def ask(text, history):
        return generator.generate(
            GenerationRequest(
                user_text=text,
                session_type="check_in",
                flow_step="reflect",
                persona="",
                history=tuple(history),
                preferences={},
                previous_summary="",
                risk_level="medium",
            )
        )

    first = ask("I haven't slept in days and nothing feels real.", [])
    assert text_has_safety_question(first.text)
    history = [("user", "I haven't slept in days"), ("assistant", first.text)]
    history += [("user", "I'm safe, just exhausted.")]
    again = ask("Still can't sleep though.", [*history, ("assistant", "Okay.")])
    assert len(again.details["parts"]) == 2  # no second safety question


@pytest.mark.parametrize(
    "category, text, named",
    [
        (
            "suicidal_ideation",
            "I keep having suicidal thoughts and no one to talk to.",
            "suicide|your life",
        ),
        ("self_harm", "I've been wanting to hurt myself again.", "hurt"),
    ],
)
def test_a_disclosure_at_medium_gets_a_direct_question_instead_of_the_flows_move(
    category, text, named
):
    """Thoughts of suicide or self-harm are asked about directly, not met with an exercise."""
    from conversations.services.filter import text_has_safety_question

    generator = ComposedGenerator()
    request = {
        "session_type": "micro_practice",
        "flow_step": FLOWS["micro_practice"][0],
        "persona": "",
        "preferences": {},
        "previous_summary": "",
        "risk_level": "medium",
        "risk_category": category,
    }
    reply = generator.generate(GenerationRequest(user_text=text, history=(), **request))
    assert reply.details["parts"][0].startswith("r4-safety_question-medium-")
    assert len(reply.details["parts"]) == 1  # no move: no breathing over a disclosure
    assert text_has_safety_question(reply.text)
    assert re.search(named, reply.text.lower())  # what was disclosed is named
    # Answered once: the next medium turn goes on with the flow, without asking again.
    history = (("user", text), ("assistant", reply.text), ("user", "I'm safe, I won't act on it."))
    later = generator.generate(
        GenerationRequest(user_text="It still comes back.", history=(*history,), **request)
    )
    assert not any(part.startswith("r4-") for part in later.details["parts"])


@pytest.mark.parametrize(
    "text", ["Yes, let's do it.", "Not sure.", "Okay, that's enough for today, thank you."]
)
def test_a_plain_answer_gets_the_move_without_a_feeling_nobody_expressed(text):
    history = [
        ("user", "Can we talk about my week?"),
        ("assistant", "Of course. Shall we look at it together?"),
    ]
    reply = _advice_reply(text, history)
    mixed = {p.id for p in reply_bank().get("validation", "mixed")}
    assert not mixed & set(reply.details["parts"])
    assert reply.details["plain_answer"] is True
    # Something that tells a feeling or a situation still gets its validation.
    for told in ("Yes, but I'm honestly terrified of failing.", "Sure. My company is downsizing."):
        reply = _advice_reply(told, history)
        assert reply.details["opens_with"] == "validation" and not reply.details["plain_answer"]
