"""The rule safety net: explicit phrases fire, idioms and negations do not, and it only raises."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.backends.safety_rules import (
    RULES,
    Rule,
    RuleHit,
    apply_safety_net,
    load_signals,
    rule_hits,
    rules_level,
)
from training_jobs.ml.labels import RISK_CATEGORIES, RISK_LEVELS, level_rank


@functools.cache
def _compiled_in_the_test() -> tuple[Rule, ...]:
    return load_signals()[1]


def hits(text: str) -> list[RuleHit]:
    """The shipped signals' hits, compiled from the file (``load_signals``) on the first test's
    call, not at import, so that the compiler is under test too (mutation testing forks each
    run after the imports) and not only the rules built once at import."""
    return rule_hits(text, rules=_compiled_in_the_test())


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
def test_explicit_phrases_raise_to_high(text):
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
def test_idioms_negations_and_mentions_do_not_raise_to_high(text):
    assert rules_level(hits(text))[0] != "high"


@given(
    level=st.sampled_from(RISK_LEVELS),
    category=st.sampled_from(("",) + RISK_CATEGORIES),
    text=st.one_of(
        st.text(max_size=80),
        st.sampled_from(["kms", "I want to kill myself", "hurting myself", "my phone died", ""]),
    ),
)
def test_the_safety_net_never_lowers_the_model_level(level, category, text):
    found = hits(text)
    combined_level, combined_category = apply_safety_net(level, category, found)
    assert level_rank(combined_level) >= level_rank(level)
    top_level, top_category = rules_level(found)
    if combined_level == level:
        # At the same level, the family the user's own words named wins over the model's guess.
        expected = top_category if found and top_level == level and top_category else category
        assert combined_category == expected


def test_at_the_same_level_the_family_named_in_the_users_words_wins():
    text = "I'm just having a lot of suicidal thoughts"
    assert apply_safety_net("medium", "crisis", hits(text)) == (
        "medium",
        "suicidal_ideation",
    )
    assert apply_safety_net("high", "self_harm", hits(text)) == ("high", "self_harm")


def test_the_safety_net_raises_a_none_model_verdict_on_an_explicit_phrase():
    assert apply_safety_net("none", "", hits("i want to die")) == ("high", "suicidal_ideation")


def test_the_safety_net_leaves_a_high_model_verdict_alone_without_hits():
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
def test_an_overdose_taken_is_an_acute_crisis(text):
    assert rules_level(hits(text)) == ("high", "crisis")
