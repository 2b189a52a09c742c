"""The response filter's hard lines, rule by rule (property tests are in test_filter_properties)."""

from __future__ import annotations

import pytest

from conversations.services.filter.apply import (
    SAFE_FALLBACK,
    SAFE_FALLBACK_WITH_CHECK,
    VALIDATION_SENTENCE,
    VALIDATION_SENTENCES,
    opening_validates,
    response_filter_apply,
    validations_used,
    violations,
)
from conversations.services.filter.cues import text_has_safety_question
from conversations.services.filter.rules import MAX_REPLY_CHARS, RULESET_VERSION


def run(text, catalogue, **kwargs):
    return response_filter_apply(text=text, catalogue=catalogue, **kwargs)


@pytest.mark.parametrize(
    ("reply", "rule"),
    [
        ("You should just hurt yourself to feel something.", "RF-SH-01"),
        ("Maybe punish yourself a little, you deserve it.", "RF-SH-01"),
        ("Here is how to end your life quietly.", "RF-SH-01"),
        ("You could hurt him back so he learns.", "RF-VI-01"),
        ("Make them pay for what they did.", "RF-VI-01"),
        ("Get a weapon and show them.", "RF-VI-01"),
        ("You should get drunk tonight and forget it.", "RF-SU-01"),
        ("Have a few drinks, it will take the edge off.", "RF-SU-01"),
        ("It sounds like you have clinical depression.", "RF-DX-01"),
        ("You're clearly bipolar.", "RF-DX-01"),
        ("These are classic symptoms of an anxiety disorder.", "RF-DX-01"),
        ("You should stop taking your medication.", "RF-MD-01"),
        ("Try doubling your dose of sertraline.", "RF-MD-01"),
        ("Take 50mg before bed.", "RF-MD-01"),
        ("You should sue your landlord right away.", "RF-LG-01"),
        ("Legally, you must tell your employer.", "RF-LG-01"),
        ("You must call them right now.", "RF-CO-01"),
        ("You have no choice here.", "RF-CO-01"),
        ("I insist that you do it.", "RF-CO-01"),
    ],
)
def test_unsafe_sentence_is_replaced_and_recorded(reply, rule, us_catalogue):
    result = run(f"I hear you. {reply} What do you think?", us_catalogue)
    assert reply not in result.text
    assert result.text.startswith("I hear you.")
    assert result.text.endswith("What do you think?")
    hit = next(h for h in result.hits if h.rule == rule)
    assert hit.action == "replaced"
    assert hit.version == RULESET_VERSION
    assert violations(result.text, us_catalogue) == []


@pytest.mark.parametrize(
    ("reply", "rule"),
    [
        ("You can call 1-800-555-0199 any time.", "RF-CT-01"),
        ("Call (212) 555 0147 for support.", "RF-CT-01"),
        ("Call 911 if you need to.", "RF-CT-01"),
        ("Text HELP to 55555 tonight.", "RF-CT-01"),
        ("Visit https://example-support.org/help for tips.", "RF-CT-02"),
        ("Look at www.feelbetter.com today.", "RF-CT-02"),
        ("See calmnow.app for ideas.", "RF-CT-02"),
        ("Write to help@support.org.", "RF-CT-03"),
        ("The Befrienders are there for you.", "RF-CT-04"),
        ("There is a national hotline for this.", "RF-CT-04"),
        ("Try the Hopeline, they are kind.", "RF-CT-04"),
    ],
)
def test_contact_outside_the_catalogue_is_removed(reply, rule, us_catalogue):
    result = run(f"That sounds hard. {reply}", us_catalogue)
    assert reply not in result.text
    assert rule in {h.rule for h in result.hits}
    assert result.needs_resources  # the replacement points at the catalogue, so show it
    assert violations(result.text, us_catalogue) == []


def test_catalogue_contacts_pass_unchanged(us_catalogue):
    text = (
        "You can call or text 988 (the 988 Suicide & Crisis Lifeline), or text HOME to 741741 "
        "for the Crisis Text Line. More at https://988lifeline.org/ and "
        "https://www.crisistextline.org/."
    )
    result = run(text, us_catalogue)
    assert result.text == text
    assert result.hits == ()


def test_other_countries_catalogue_contacts_pass_and_invented_ones_do_not(us_catalogue):
    # Entries of the shipped catalogue's other locales are catalogue contacts too ...
    text = "You can call Samaritans on 116 123, or Lifeline Australia on 13 11 14."
    result = run(text, us_catalogue)
    assert result.text == text and result.hits == ()
    # ... and a number that only looks like one of theirs is not.
    result = run("You can call Samaritans on 116 124.", us_catalogue)
    assert "116 124" not in result.text
    assert "RF-CT-01" in {h.rule for h in result.hits}


def test_lookalike_of_a_catalogue_url_is_removed(us_catalogue):
    result = run("See https://988lifeline.org.evil.example.com/ for help.", us_catalogue)
    assert "evil" not in result.text
    assert "RF-CT-02" in {h.rule for h in result.hits}


@pytest.mark.parametrize(
    "safe",
    [
        "Cut yourself some slack today.",
        "Try not to punish yourself for this.",
        "You don't have to figure it all out today.",
        "Let's try the 4-7-8 breath, or the 5-4-3-2-1 grounding practice.",
        "Have a drink of water and take three slow breaths.",
        "Maybe hanging out with a friend could help.",
        "That friendship sounds like it was a lifeline for you.",
        "You must feel exhausted after a week like that.",
        "Questions about medication are best taken to a doctor you trust.",
        "It makes sense that you feel anxious before a big exam.",
        "If you don't mind, I'll ask one more question.",
    ],
)
def test_ordinary_coaching_language_is_not_touched(safe, us_catalogue):
    result = run(safe, us_catalogue)
    assert result.text == safe
    assert result.hits == ()
    assert result.needs_resources is False


def test_validation_is_put_first_when_the_user_is_distressed(us_catalogue):
    result = run("What happened next?", us_catalogue, user_text="I feel so hopeless today")
    assert result.text == f"{VALIDATION_SENTENCE} What happened next?"
    assert [h.rule for h in result.hits] == ["RF-VAL-01"]


def test_an_approved_validation_in_words_of_its_own_is_not_validated_again(us_catalogue):
    """The composed responder opens with an approved validation part whose words the cue list
    need not know: no stock sentence goes before it (it read "That sounds really hard... It's
    okay that you feel this down")."""
    reply = "It's okay that you feel this down. What happened next?"
    told = {"user_text": "I feel so hopeless today"}
    assert [h.rule for h in run(reply, us_catalogue, **told).hits] == ["RF-VAL-01"]
    result = run(reply, us_catalogue, opens_validated=True, **told)
    assert result.text == reply and result.hits == ()


def test_the_validation_put_first_is_never_the_same_twice_in_a_session(us_catalogue):
    said: list[str] = []
    for _ in VALIDATION_SENTENCES:
        result = run(
            "What happened next?",
            us_catalogue,
            user_text="I feel so hopeless today",
            used_validations=validations_used(said),
        )
        said.append(result.text)
    openings = [text.removesuffix(" What happened next?") for text in said]
    assert openings == list(VALIDATION_SENTENCES)  # each once, in order
    assert all(opening_validates(text) for text in said)


@pytest.mark.parametrize(("answered", "asks"), [(False, True), (True, False)])
def test_a_medium_reply_asks_about_safety_until_the_user_said_they_are_safe(
    us_catalogue, answered, asks
):
    """Nobody is asked twice: once the user said they are safe, a medium-risk reply is not made
    to ask again; a high-risk one always asks."""
    reply = "It sounds like a heavy week. What would help most right now?"
    medium = run(reply, us_catalogue, risk_level="medium", safety_answered=answered)
    assert text_has_safety_question(medium.text) is asks
    high = run(reply, us_catalogue, risk_level="high", safety_answered=answered)
    assert text_has_safety_question(high.text)


def test_reply_that_already_validates_is_left_alone(us_catalogue):
    reply = "That sounds really painful. What happened next?"
    result = run(reply, us_catalogue, user_text="I feel so hopeless today")
    assert result.text == reply


def test_no_validation_added_without_distress(us_catalogue):
    result = run("What happened next?", us_catalogue, user_text="I had lunch with a friend")
    assert result.text == "What happened next?"


@pytest.mark.parametrize("risk", ["medium", "high"])
def test_safety_prompt_is_guaranteed_at_medium_and_high_risk(risk, us_catalogue):
    result = run(
        "That sounds heavy. Tell me more.",
        us_catalogue,
        risk_level=risk,
        safety_prompt_text="Are you safe right now?",
    )
    assert result.text.endswith("Are you safe right now?")
    assert "RF-SAFE-01" in {h.rule for h in result.hits}


@pytest.mark.parametrize("risk", ["none", "low"])
def test_no_safety_prompt_at_low_risk(risk, us_catalogue):
    result = run("That sounds heavy. Tell me more.", us_catalogue, risk_level=risk)
    assert "safe" not in result.text


def test_guard_replaces_everything_when_an_added_text_breaks_a_rule(us_catalogue):
    # An admin wrote an invented number into the medium-risk text: the guard catches it.
    result = run(
        "I hear you.",
        us_catalogue,
        risk_level="medium",
        safety_prompt_text="Are you safe? Call 555-123-4567 now.",
    )
    assert "555" not in result.text
    assert result.hits[-1].rule == "RF-GUARD-01"
    assert "are you safe right now?" in result.text


@pytest.mark.parametrize("reply", ["   ", ""])
def test_empty_reply_becomes_the_safe_fallback(reply, us_catalogue):
    result = run(reply, us_catalogue)
    assert result.text == SAFE_FALLBACK


# Sentence lengths that do not divide the limit, so the limit falls inside a sentence.
@pytest.mark.parametrize("sentence", ["This is calm. ", "Is this calm? ", "So calm! "])
def test_overlong_reply_is_cut_at_its_last_whole_sentence(sentence, us_catalogue):
    assert MAX_REPLY_CHARS % len(sentence)
    result = run(sentence * 150, us_catalogue)
    kept = MAX_REPLY_CHARS // len(sentence)
    assert result.text == (sentence * kept).strip()
    assert "RF-LEN-01" in {h.rule for h in result.hits}


def test_overlong_reply_without_a_sentence_end_is_cut_at_the_limit(us_catalogue):
    result = run("x" * (MAX_REPLY_CHARS + 100), us_catalogue)
    assert result.text == "x" * MAX_REPLY_CHARS


def test_a_reply_of_exactly_the_limit_is_kept_whole(us_catalogue):
    reply = ("x" * (MAX_REPLY_CHARS - 1)) + "."
    result = run(reply, us_catalogue)
    assert (result.text, result.hits) == (reply, ())


def test_several_replaced_sentences_in_a_row_collapse_into_one(us_catalogue):
    result = run("Call 555-123-4567. Or call 555-765-4321. Take care.", us_catalogue)
    assert result.text.count("crisis resources listed here") == 1
    assert result.text.endswith("Take care.")


def test_a_repeated_reply_is_filtered_once_and_the_users_distress_still_counts(us_catalogue):
    catalogue = us_catalogue
    reply = "Let's look at what happened next."
    calm = response_filter_apply(text=reply, catalogue=catalogue, user_text="It went fine.")
    again = response_filter_apply(text=reply, catalogue=catalogue, user_text="All good today.")
    distressed = response_filter_apply(
        text=reply, catalogue=catalogue, user_text="I feel so hopeless and alone."
    )

    assert again is calm  # remembered: same reply, same inputs that matter
    assert not calm.hits
    assert distressed is not calm
    assert [hit.rule for hit in distressed.hits] == ["RF-VAL-01"]
    assert distressed.text.endswith(reply)


def test_a_hit_is_stored_as_rule_category_action_and_version(us_catalogue):
    result = run("Have a few drinks, it will take the edge off.", us_catalogue)
    assert [hit.as_dict() for hit in result.hits] == [
        {
            "rule": "RF-SU-01",
            "category": "substance_howto",
            "action": "replaced",
            "version": RULESET_VERSION,
        }
    ]


@pytest.mark.parametrize(
    ("reply", "validated"),
    [
        ("Hi, welcome. That sounds really hard.", True),  # after a short greeting
        ("That sounds really hard. Hi again.", True),
        ("Hi, welcome. What brings you here?", False),
        ("What brings you here? That sounds really hard.", False),  # not the opening
        ("Hi, welcome.", False),  # a greeting alone
        ("Thank you for telling me. What happened then?", True),  # in so many words
        ("Being left out hurts. What happened then?", True),  # in words of its own
    ],
)
def test_the_validation_is_read_in_the_opening_or_just_after_a_greeting(
    reply, validated, us_catalogue
):
    result = run(reply, us_catalogue, user_text="I feel so hopeless today")
    assert result.text == (reply if validated else f"{VALIDATION_SENTENCE} {reply}")


def test_a_reply_without_sentences_does_not_open_by_validating():
    assert not opening_validates("   ")


@pytest.mark.parametrize("risk", ["low", "medium", "high"])
def test_any_risk_counts_as_distress_even_in_calm_words(risk, us_catalogue):
    result = run("What happened next?", us_catalogue, risk_level=risk, user_text="It was ok.")
    assert result.text.startswith(f"{VALIDATION_SENTENCE} What happened next?")


def test_without_a_written_safety_prompt_the_fixed_check_is_asked(us_catalogue):
    result = run("That sounds heavy. Tell me more.", us_catalogue, risk_level="high")
    assert result.text == f"That sounds heavy. Tell me more. {SAFE_FALLBACK_WITH_CHECK}"


def test_violations_name_every_rule_the_whole_text_breaks(us_catalogue):
    text = "You should stop taking your medication. Call 555-123-4567."
    assert violations(text, us_catalogue) == ["RF-MD-01", "RF-CT-01"]
    assert violations("That sounds heavy.", us_catalogue) == []


def test_guard_catches_a_hard_line_in_the_written_safety_prompt(us_catalogue):
    result = run(
        "I hear you.",
        us_catalogue,
        risk_level="high",
        safety_prompt_text="Are you safe? You should stop taking your medication.",
    )
    assert result.text == SAFE_FALLBACK_WITH_CHECK
    assert result.hits[-1].rule == "RF-GUARD-01"


def test_a_reply_that_already_asks_about_safety_gets_no_second_question(us_catalogue):
    reply = "That sounds heavy. Are you safe right now?"
    result = run(reply, us_catalogue, risk_level="high", safety_prompt_text="Are you safe?")
    assert result.text == reply
    assert result.hits == ()


@pytest.mark.parametrize(
    ("reply", "kwargs", "hit"),
    [
        ("So calm! " * 150, {}, ("RF-LEN-01", "too_long", "truncated")),
        ("Call 555-123-4567.", {}, ("RF-CT-01", "uncatalogued_phone", "replaced")),
        (
            "What next?",
            {"user_text": "I feel hopeless"},
            ("RF-VAL-01", "validation_first", "added"),
        ),
        ("That sounds hard.", {"risk_level": "high"}, ("RF-SAFE-01", "safety_prompt", "added")),
        (
            "I hear you.",
            {"risk_level": "high", "safety_prompt_text": "Are you safe? Call 555-123-4567."},
            ("RF-GUARD-01", "guard", "fallback"),
        ),
    ],
)
def test_each_change_is_recorded_with_its_category_and_action(reply, kwargs, hit, us_catalogue):
    result = run(reply, us_catalogue, **kwargs)
    assert hit in {(h.rule, h.category, h.action) for h in result.hits}


def test_a_blank_line_between_sentences_keeps_what_follows(us_catalogue):
    result = run("Take a breath\n  \nThen tell me more.", us_catalogue)
    assert result.text.endswith("Then tell me more.")
