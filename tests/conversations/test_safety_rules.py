"""The rule safety net: explicit phrases fire, idioms and negations do not, and it only raises."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.backends.safety_rules import (
    RULES,
    RuleHit,
    apply_safety_net,
    load_signals,
    rule_hits,
    rules_level,
)
from training_jobs.ml.labels import RISK_CATEGORIES, RISK_LEVELS, level_rank


@pytest.fixture(scope="module")
def hits() -> Callable[[str], list[RuleHit]]:
    """The shipped signals' hits, compiled from the file (``load_signals``) in the test session,
    not at import, so that the compiler is under test too and not only the rules built once at
    import. A module fixture rather than a cache: mutation testing forks each run from a process
    that already ran the tests, and a cache filled there would hide a mutated compiler."""
    rules = load_signals()[1]
    return lambda text: rule_hits(text, rules=rules)


def test_the_rules_served_are_the_shipped_file_compiled():
    assert load_signals()[1] == RULES


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "gonna kms tonight",
        "i wanna unalive myself",
        "I'm going to end my life",
        "everyone would be better off without me",
        "this is my last message",
        "i wnat to dei",
        "Quiero morir",
        "me quiero matar",
        "Ich will mich umbringen",
        "ich will sterben",
        "Estoy decidida a suicidarme.",
        "pienso en suicidarme cada noche",
        "Ich bringe mich um, ich habe genug.",
        "ich bring mich um",
    ],
)
def test_explicit_phrases_raise_to_high(hits, text):
    level, category = rules_level(hits(text))
    assert level == "high"
    assert category == "suicidal_ideation"


@pytest.mark.parametrize(
    "text",
    [
        "This homework is killing me",
        "my phone died",
        "I'm dying to see that film",
        "I'm writing an essay on suicide prevention",
        "I'm not suicidal, just tired of my job",
        "No, I'm not going to kill myself, I'm annoyed at my landlord",
        "I have no intention of ending my life",
        "I ran 5 kms this morning",
        "I want to die of embarrassment lol",
        "my mom is going to kill me",
        "ugh kill me now, it's monday",
        "I tried to end my life when I was nineteen, I'm okay now",
        "Me muero de risa",
        "Ich sterbe vor Langeweile",
        "I took too much time on this essay",
        "my back is hurting me",
        "No quiero suicidarme, solo estoy cansada",
        "mi jefe me va a matar",
        "Das bringt mich um",
        "Kannst du mich bring mich um 8 abholen?",
        "Ich will mich nicht umbringen, ich bin nur erschöpft",
        "I took too many photos on holiday",
    ],
)
def test_idioms_negations_and_mentions_do_not_raise_to_high(hits, text):
    assert rules_level(hits(text))[0] != "high"


@given(
    level=st.sampled_from(RISK_LEVELS),
    category=st.sampled_from(("",) + RISK_CATEGORIES),
    text=st.one_of(
        st.text(max_size=80),
        st.sampled_from(["kms", "I want to kill myself", "hurting myself", "my phone died", ""]),
    ),
)
def test_the_safety_net_never_lowers_the_model_level(hits, level, category, text):
    found = hits(text)
    combined_level, combined_category = apply_safety_net(level, category, found)
    assert level_rank(combined_level) >= level_rank(level)
    top_level, top_category = rules_level(found)
    if combined_level == level:
        # At the same level, the family the user's own words named wins over the model's guess.
        expected = top_category if found and top_level == level and top_category else category
        assert combined_category == expected


def test_at_the_same_level_the_family_named_in_the_users_words_wins(hits):
    text = "I'm just having a lot of suicidal thoughts"
    assert apply_safety_net("medium", "crisis", hits(text)) == (
        "medium",
        "suicidal_ideation",
    )
    assert apply_safety_net("high", "self_harm", hits(text)) == ("high", "self_harm")


def test_the_safety_net_raises_a_none_model_verdict_on_an_explicit_phrase(hits):
    assert apply_safety_net("none", "", hits("i want to die")) == ("high", "suicidal_ideation")


def test_the_safety_net_leaves_a_high_model_verdict_alone_without_hits(hits):
    assert apply_safety_net("high", "self_harm", hits("it'll be over soon")) == (
        "high",
        "self_harm",
    )


@pytest.mark.parametrize(
    "text",
    [
        "I took way too many pills a few minutes ago.",
        "I swallowed too many of my pills",
        "Me tomé demasiadas pastillas y me siento muy mal.",
        "Ich habe zu viele Tabletten genommen",
    ],
)
def test_an_overdose_taken_is_an_acute_crisis(hits, text):
    assert rules_level(hits(text)) == ("high", "crisis")


def test_a_study_frame_silences_only_the_self_harm_mention(hits):
    """ "essay", "blog", "course"... in the message cancel the plain self-harm mention (people
    write about it), never an explicit phrase in the same message."""
    assert "sh.mention" in {h.rule_id for h in hits("I keep hurting myself")}
    assert "sh.mention" not in {h.rule_id for h in hits("my essay is about self-harm in teens")}
    assert rules_level(hits("my essay is due tomorrow and I want to kill myself")) == (
        "high",
        "suicidal_ideation",
    )


def test_without_hits_the_level_is_none_and_no_family():
    assert rules_level([]) == ("none", "")
