"""The response filter's rules are a data file, checked when it loads: a bad entry is refused
with an error that names it, so a broken rule set never serves."""

from __future__ import annotations

import copy

import pytest
import yaml

from conversations.services.filter.rules import (
    MAX_REPLY_CHARS,
    RULES_FILE,
    RULESET_VERSION,
    SENTENCE_RULES,
    FilterRulesError,
    rule_set_load,
    rule_set_parse,
)


@pytest.fixture
def data() -> dict:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_loads_every_rule_in_order(data):
    parsed = rule_set_parse(data)
    assert [rule.id for rule in parsed.rules] == [entry["id"] for entry in data["rules"]]
    assert parsed.rules == SENTENCE_RULES
    # Vocabulary pieces are expanded: no placeholder survives into a compiled pattern.
    assert not any("{{" in p.pattern for rule in parsed.rules for p in rule.patterns)


def test_the_served_rules_are_the_file_loaded(data):
    loaded, parsed = rule_set_load(), rule_set_parse(data)
    # Rule sets compare by identity (one object per text): compare what they hold.
    assert (loaded.version, loaded.max_reply_chars, loaded.rules) == (
        parsed.version,
        parsed.max_reply_chars,
        parsed.rules,
    )
    assert loaded.any_rule_rx.pattern == parsed.any_rule_rx.pattern
    assert (loaded.version, loaded.max_reply_chars) == (data["version"], data["max_reply_chars"])
    assert (loaded.version, loaded.max_reply_chars, loaded.rules) == (
        RULESET_VERSION,
        MAX_REPLY_CHARS,
        SENTENCE_RULES,
    )


def test_a_file_that_is_not_yaml_is_refused_with_its_name(tmp_path):
    path = tmp_path / "broken_rules.yaml"
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(FilterRulesError, match="^broken_rules.yaml: not valid YAML"):
        rule_set_load(path)


def test_the_reply_length_limit_may_be_100_characters(data):
    data["max_reply_chars"] = 100
    assert rule_set_parse(data).max_reply_chars == 100


def test_a_vocabulary_piece_is_used_where_it_is_named(data):
    rules = {rule.id: rule for rule in rule_set_parse(data).rules}
    assert rules["RF-SH-01"].matches("You should just hurt yourself.")
    assert not rules["RF-SH-01"].matches("You could cut yourself some slack today.")
    assert rules["RF-DX-01"].matches("It sounds like you have bipolar disorder.")


def _broken(data: dict, change) -> dict:
    broken = copy.deepcopy(data)
    change(broken)
    return broken


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rules"][2].update(id="RF-SH-01"), "rule RF-SH-01: duplicate id"),
        (lambda d: d["rules"][1].update(id="violence"), "rule violence: id must look like"),
        (lambda d: d["rules"][3].update(category="rude"), "rule RF-DX-01: category must be"),
        (lambda d: d["rules"][4].update(replacement=" "), "rule RF-MD-01: replacement required"),
        (lambda d: d["rules"][5].update(patterns=[]), "rule RF-LG-01: patterns must be"),
        (lambda d: d["rules"][6]["patterns"].append("(unclosed"), "rule RF-CO-01: invalid"),
        (lambda d: d["vocabulary"].update(gap=["(?:"]), "vocabulary.gap: invalid"),
        (lambda d: d.pop("version"), "version: required"),
        (lambda d: d.update(rules=[]), "rules: a non-empty list"),
        (lambda d: d.update(rules=["RF-SH-01"]), "rule 0: id must look like"),
        (lambda d: d.update(max_reply_chars=99), "max_reply_chars: an integer of at least 100"),
        (lambda d: d.update(max_reply_chars="1200"), "max_reply_chars: an integer of at least"),
        (lambda d: d["vocabulary"].update(gap=[]), "vocabulary.gap: expected a non-empty string"),
        (lambda d: d["vocabulary"].update(x="{{none}}"), "vocabulary.x: unknown vocabulary piece"),
        (
            lambda d: d["rules"][0]["patterns"].append(["(?:", 7, ")"]),
            r"rule RF-SH-01 pattern \d+: expected a non-empty string or list of strings",
        ),
        (
            lambda d: d["rules"][0]["patterns"].append("{{nowhere}}"),
            "rule RF-SH-01: unknown vocabulary piece",
        ),
        (
            # A replacement that itself crosses a line would be replaced forever.
            lambda d: d["rules"][4].update(replacement="Just take your meds."),
            "rule RF-MD-01: its replacement crosses",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_name(data, change, message):
    # The message starts with the entry's name (a match at the start, not anywhere in it).
    with pytest.raises(FilterRulesError, match="^" + message.replace("(", r"\(")):
        rule_set_parse(_broken(data, change))


@pytest.mark.parametrize("data", [[], "rules", None])
def test_a_file_that_is_not_a_mapping_is_refused(data):
    with pytest.raises(FilterRulesError, match="^the rule file must be a mapping$"):
        rule_set_parse(data)
