"""The risk-signal data file: it validates (a bad entry is named), its phrase groups fire only
together and within their window, it raises only, and its signals stay quiet on the everyday
rows of the training data."""

from __future__ import annotations

import pytest

from conversations.backends import safety_rules
from conversations.backends.safety_rules import (
    RULES,
    SIGNALS_FILE,
    RiskSignalError,
    compile_entry,
    fold,
    load_signals,
    rule_hits,
    rules_level,
)
from training_jobs.ml import data as datasets


def _entry(**overrides):
    entry = {
        "id": "means.test_entry",
        "level": "high",
        "category": "suicidal_ideation",
        "langs": ["en"],
        "all": [["pills", "tablets"], ["saved up", "stockpil*"]],
        "window": 6,
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def test_the_shipped_file_loads_with_a_version_and_unique_ids():
    version, rules = load_signals(SIGNALS_FILE)
    assert version.startswith("signals-")
    assert len({r.id for r in rules}) == len(rules) == len(RULES)
    assert {"means.medication_hoarded", "attempt.substance_taken", "si.kms"} <= {
        r.id for r in rules
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": None}, "needs an 'id'"),
        ({"level": "low"}, "'level' must be one of"),
        ({"category": "sadness"}, "'category' must be one of"),
        ({"langs": ["it"]}, "'langs' must list"),
        ({"pattern": "x"}, "either 'all'"),
        ({"all": None}, "either 'all'"),
        ({"all": [["pills"], []]}, "each group of 'all' is a list of phrases"),
        ({"all": "pills"}, "'all' must be a list"),
        ({"window": 0}, "'window' must be a positive"),
        ({"negatable": "yes"}, "'negatable' must be true or false"),
        ({"colour": "red"}, "unknown field"),
        ({"all": [["pills"], "saved"]}, "each group of 'all' is a list of phrases"),
        ({"all": [["pills", " "]]}, "each group of 'all' is a list of phrases"),
        ({"all": [["pills", 5]]}, "each group of 'all' is a list of phrases"),
    ],
)
def test_a_bad_entry_is_a_clear_error_naming_it(overrides, message):
    with pytest.raises(RiskSignalError, match=message) as error:
        compile_entry(_entry(**overrides))
    if overrides.get("id", "x") is not None:
        assert "means.test_entry" in str(error.value)


@pytest.mark.parametrize("entry", [{"level": "high"}, "not a mapping", ["si.x"]])
def test_an_entry_without_an_id_is_named_as_such(entry):
    with pytest.raises(RiskSignalError, match="a risk signal without an id: every entry needs"):
        compile_entry(entry)


def test_a_one_word_window_is_allowed():
    assert compile_entry(_entry(window=1)).window == 1


def test_a_bad_pattern_and_a_reused_id_are_clear_errors(tmp_path):
    with pytest.raises(RiskSignalError, match="not a valid expression"):
        compile_entry(_entry(all=None, pattern="(unclosed"))
    path = tmp_path / "signals.yaml"
    path.write_text(
        "version: t\nentries:\n"
        "  - {id: a.b, level: high, category: crisis, langs: [en], pattern: 'x'}\n"
        "  - {id: a.b, level: high, category: crisis, langs: [en], pattern: 'y'}\n",
        encoding="utf-8",
    )
    with pytest.raises(RiskSignalError, match="'a.b': the id is used twice"):
        load_signals(path)
    path.write_text("entries: [\n", encoding="utf-8")
    with pytest.raises(RiskSignalError, match="cannot be read as YAML"):
        load_signals(path)


@pytest.mark.parametrize("document", ["- a\n- b\n", "version: t\n", "version: t\nentries: x\n"])
def test_a_file_without_a_list_of_entries_is_a_clear_error(tmp_path, document):
    path = tmp_path / "signals.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(RiskSignalError, match="needs a 'version' and a list of 'entries'"):
        load_signals(path)


def test_a_file_without_a_version_loads_as_unversioned(tmp_path):
    path = tmp_path / "signals.yaml"
    path.write_text(
        "entries:\n  - {id: a.b, level: high, category: crisis, langs: [en], pattern: 'x'}\n",
        encoding="utf-8",
    )
    version, rules = load_signals(path)
    assert version == "unversioned"
    assert [r.id for r in rules] == ["a.b"]


def test_text_is_folded_to_lowercase_plain_letters_straight_apostrophes_single_spaces():
    assert fold("  Don’t  `Stop`\tNOW\n ") == "don't 'stop' now"
    assert fold("") == ""
    # A curly apostrophe still reads as the negation it is.
    rule = compile_entry(_entry())
    assert not rule_hits("I don’t have pills saved up", [rule])


def test_phrase_groups_fire_together_within_their_window_and_ignore_case_and_accents():
    rule = compile_entry(_entry())
    assert rule_hits("I have SAVED UP my pills for weeks", [rule])
    assert rule_hits("the tablets I've been stockpiling", [rule])  # "stockpil*"
    assert not rule_hits("I saved up for a new bike", [rule])  # one group only
    far = "pills " + "and then a long story about the weekend and my cousin " * 2 + "saved up"
    assert not rule_hits(far, [rule])  # both groups, but not within 6 words
    accents = compile_entry(_entry(all=[["pastillas"], ["ahorrado"]], langs=["es"]))
    assert rule_hits("He AHORRADO las pastillas", [accents])
    assert fold("Ich möchte") == "ich mochte"


def test_the_window_counts_words_from_the_first_phrase_to_the_last_word_of_the_last():
    def fires(text: str, window: int, groups=None) -> bool:
        rule = compile_entry(_entry(window=window, all=groups or [["pills"], ["saved up"]]))
        return bool(rule_hits(text, [rule]))

    # "my pills were saved up there": pills is word 1, "up" word 4 -> 3 words apart.
    assert fires("my pills were saved up there", 3)
    assert not fires("my pills were saved up there", 2)
    # The other order: "saved" (word 0) to "pills" (word 3), then more words.
    assert fires("saved up and pills now", 3)
    assert not fires("saved up and pills now", 2)
    # A phrase that ends in a one-letter word reaches to that word.
    assert fires("pills then saved a", 3, [["pills"], ["saved a"]])
    assert not fires("pills then saved a", 2, [["pills"], ["saved a"]])


def test_phrase_groups_without_a_window_stay_within_ten_words():
    rule = compile_entry(_entry(window=None))
    assert rule.window == 10
    assert rule_hits("pills " + "word " * 8 + "saved up", [rule])
    assert not rule_hits("pills " + "word " * 12 + "saved up", [rule])


def test_a_negation_before_a_later_repeat_does_not_cancel_an_earlier_hit():
    rule = compile_entry(_entry())
    text = "My pills are saved up. Don't tell anyone, the pills saved up are my way out"
    assert rule_hits(text, [rule])


def test_a_guarded_signal_does_not_stop_the_ones_after_it():
    hoard = compile_entry(_entry(all=None, window=None, pattern="hoard pills"))
    mention = compile_entry(_entry(id="sh.mention", all=None, window=None, pattern="cut myself"))
    rope = compile_entry(_entry(id="means.rope", all=None, window=None, pattern="a rope"))
    assert [
        h.rule_id for h in rule_hits("I never hoard pills, but I have a rope", [hoard, rope])
    ] == ["means.rope"]
    assert [h.rule_id for h in rule_hits("I used to hoard pills, now a rope", [hoard, rope])] == [
        "means.rope"
    ]
    assert [
        h.rule_id for h in rule_hits("an essay on cut myself, and I have a rope", [mention, rope])
    ] == ["means.rope"]


@pytest.fixture
def workspace_loader():
    """Registers a loader of workspace signals for one test, then puts the app's back."""
    registered = safety_rules._extra_loader
    yield safety_rules.set_extra_loader
    safety_rules.set_extra_loader(registered)


def test_the_workspace_signals_apply_beside_the_files(workspace_loader):
    extra = compile_entry(_entry(id="means.workspace", all=None, window=None, pattern="blue rope"))
    workspace_loader(lambda: (extra,))
    assert "means.workspace" in {h.rule_id for h in rule_hits("I bought a blue rope for it")}
    workspace_loader(None)  # plain scripts: the file's signals only
    assert not rule_hits("I bought a blue rope for it")
    assert rule_hits("I want to kill myself")


def test_a_negation_just_before_cancels_a_negatable_signal():
    rule = compile_entry(_entry())
    assert not rule_hits("I have never saved up pills", [rule])
    assert rule_hits("I have never felt this way, the pills are saved up", [rule])


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("I've been saving up my sleeping pills for weeks now", "means.medication_hoarded"),
        ("there's a rope around my neck right now", "means.ligature"),
        ("I took the whole bottle about an hour ago", "attempt.substance_taken"),
        ("I'm standing on the bridge railing and I'm going to jump", "attempt.height_edge"),
        ("the blade is in my hand again", "self_harm_act.blade_on_skin"),
        ("my brother took something and he won't wake up", "acute_crisis.person_unresponsive"),
        ("Ich habe seit Wochen Tabletten gesammelt", "means.medication_hoarded"),
        ("je veux mourir", "si.fr"),
    ],
)
def test_situations_without_suicide_words_raise_to_high(text, signal):
    hits = rule_hits(text)
    assert signal in {h.rule_id for h in hits}
    assert rules_level(hits)[0] == "high"


@pytest.mark.parametrize(
    "text",
    [
        "I take my meds every morning with breakfast",
        "bought rope for the climbing course",
        "we stood at the edge of the canyon on holiday, amazing view",
        "cleaned my rifle for the hunting season",
        "I cut myself shaving this morning, ouch",
        "overdosed on chocolate again lol",
        "I'm going to kill him at chess tonight",
        "my phone won't turn on",
    ],
)
def test_everyday_uses_do_not_raise_to_high(text):
    assert rules_level(rule_hits(text))[0] != "high"


@pytest.mark.slow
def test_high_signals_stay_quiet_on_the_everyday_training_rows():
    """A signal is only useful if it is rare where there is no risk: each high signal fires on
    at most 0.2% of the training rows labelled none or low (about 30 of 15,000)."""
    rows = [r for r in datasets.load_training_rows("safety") if r["risk_level"] in ("none", "low")]
    counts: dict[str, int] = {}
    for row in rows:
        for hit in rule_hits(row["text"]):
            if hit.level == "high":
                counts[hit.rule_id] = counts.get(hit.rule_id, 0) + 1
    noisy = {rule: n for rule, n in counts.items() if n > 0.002 * len(rows)}
    assert not noisy, f"signals firing on everyday rows: {noisy}"


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("I'm just having a lot of suicidal thoughts and I've hit a wall", True),
        ("I have been having suicidal thoughts again", True),
        ("I'm thinking about suicide", True),
        ("I used to have suicidal thoughts years ago", False),  # past
        ("My friend is having suicidal thoughts", False),  # not the user
        ("I'm not having suicidal thoughts, just tired", False),  # denied
        ("We did a training on suicidal thoughts at work", False),
    ],
)
def test_current_suicidal_thoughts_named_as_thoughts_are_at_least_medium(text, fires):
    """Named, current suicidal thoughts always get a direct question that names them (the
    composed reply asks directly only when a signal named the family); the model decides high."""
    hits = [h for h in rule_hits(text) if h.rule_id == "si.suicidal_thoughts"]
    assert bool(hits) is fires
    if fires:
        assert rules_level(rule_hits(text))[0] in ("medium", "high")
        assert hits[0].category == "suicidal_ideation"
