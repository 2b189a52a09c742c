"""The seed-dialogue bank: whole sessions by independent writers, checked, loaded as drafts."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from conversations.backends.generation.approved import dialogue_pairs
from conversations.content.seeds import SeedBankError, seed_dialogues_read
from conversations.flows import FLOWS
from conversations.services.filter import response_filter_apply
from evaluation.models import SeedDialogue
from evaluation.services.starter import seed_bank_load
from training_jobs.ml.data import external_dev_fingerprints, text_fingerprint

BANK = seed_dialogues_read()


def test_the_bank_has_the_recipes_scale_from_many_writers():
    assert len(BANK) >= 500
    assert len({d["source"] for d in BANK}) >= 5
    assert len({d["concern"] for d in BANK}) >= 20
    types = Counter(d["session_type"] for d in BANK)
    assert set(types) == set(FLOWS) and min(types.values()) >= 50
    assert sum(bool(d.get("variant_of")) for d in BANK) >= 50


def test_every_reply_keeps_the_filters_hard_lines_and_rarely_needs_a_validation(us_catalogue):
    """No reply breaks a hard line; a validation is added (RF-VAL-01) to at most 5% of replies
    (writers validate in their own words, which the rule's phrases may not know)."""
    replies = added = 0
    for d in BANK:
        messages = d["messages"]
        for user, assistant in zip(messages[::2], messages[1::2], strict=True):
            result = response_filter_apply(
                text=assistant["content"], catalogue=us_catalogue, user_text=user["content"]
            )
            rules = {h.rule for h in result.hits}
            assert rules <= {"RF-VAL-01"}, (d["key"], rules)
            replies += 1
            added += "RF-VAL-01" in rules
    assert added / replies <= 0.05, (added, replies)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [re.sub(r"\W+", " ", p).strip().lower() for p in parts if len(p.split()) >= 4]


def test_no_reply_sentence_is_said_twice_in_a_dialogue():
    for d in BANK:
        said = [
            s for m in d["messages"] if m["role"] == "assistant" for s in _sentences(m["content"])
        ]
        assert len(said) == len(set(said)), d["key"]


def test_no_user_message_repeats_an_external_dev_text():
    refused = external_dev_fingerprints()
    for d in BANK:
        for m in d["messages"]:
            assert text_fingerprint(m["content"]) not in refused, d["key"]


def test_consenting_deep_dives_reach_the_experiment_and_declined_ones_are_respected():
    deep = [d for d in BANK if d["session_type"] == "gentle_deep"]
    steps = [[m["flow_step"] for m in d["messages"] if m["role"] == "assistant"] for d in deep]
    declined = [s for s in steps if "consent_declined" in s]
    consenting = [s for s in steps if "consent_declined" not in s]
    assert declined and all("experiment" not in s for s in declined)
    assert all("experiment" in s for s in consenting)


def _write(tmp_path, entries) -> None:
    (tmp_path / "w.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")


def _good(**changes) -> dict:
    entry = {
        "key": "w.1",
        "title": "t",
        "session_type": "micro_practice",
        "concern": "sleep",
        "feelings": ["tired"],
        "source": "w",
        "messages": [
            {"role": "user", "content": "I can't settle tonight."},
            {"role": "assistant", "content": "Shall we breathe?", "flow_step": "invite"},
            {"role": "user", "content": "ok"},
            {"role": "assistant", "content": "In slowly.", "flow_step": "practice"},
            {"role": "user", "content": "better"},
            {"role": "assistant", "content": "Glad.", "flow_step": "close"},
        ],
    }
    entry.update(changes)
    return entry


def _steps(*steps: str) -> list[dict]:
    out = []
    for step in steps:
        out += [
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a", "flow_step": step},
        ]
    return out


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (["{not json"], "w.jsonl:1: not valid JSON"),
        ([_good(concern="")], "w.jsonl:1: missing concern"),
        ([_good(session_type="chat")], "session_type 'chat' is not one of"),
        ([_good(messages=_good()["messages"][1:])], "message 1 must be a user message"),
        ([_good(messages=_steps("invite", "reframe", "close"))], "has step 'reframe'"),
        ([_good(messages=_steps("practice", "close"))], "starts with step 'invite'"),
        ([_good(messages=_steps("invite", "practice"))], "ends with 'close'"),
        ([_good(messages=_steps("invite", "practice", "invite", "close"))], "comes after"),
        ([_good(), _good()], "w.jsonl:2: key 'w.1' already used at w.jsonl:1"),
        ([_good(variant_of="w.9")], "variant_of 'w.9' names no dialogue"),
        ([_good(feelings="sad")], "feelings must be a list"),
    ],
)
def test_a_bad_line_is_refused_with_its_file_line_and_problem(tmp_path, entries, problem):
    lines = [e if isinstance(e, str) else json.dumps(e) for e in entries]
    (tmp_path / "w.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SeedBankError, match=re.escape(problem)):
        seed_dialogues_read(tmp_path)


def test_declined_consent_may_return_to_listening(tmp_path):
    deep = _good(
        session_type="gentle_deep",
        messages=_steps("validate", "consent", "consent_declined", "validate", "close"),
    )
    _write(tmp_path, [deep])
    assert seed_dialogues_read(tmp_path)[0]["key"] == "w.1"


@pytest.mark.django_db
def test_the_bank_loads_once_as_drafts_with_variants_linked():
    assert seed_bank_load() == len(BANK)
    assert seed_bank_load() == 0
    drafts = SeedDialogue.objects.filter(source__in={d["source"] for d in BANK})
    assert drafts.count() == len(BANK)
    assert set(drafts.values_list("state", flat=True)) == {SeedDialogue.State.DRAFT}
    variant = next(d for d in BANK if d.get("variant_of"))
    row = drafts.get(source=variant["source"], external_id=variant["key"])
    assert row.variant_of.external_id == variant["variant_of"]
    assert f"concern:{variant['concern']}" in row.tags


@pytest.mark.django_db
def test_each_reply_of_a_whole_session_is_indexed_under_its_own_step():
    seed_bank_load()
    entry = next(d for d in BANK if d["session_type"] == "gentle_deep")
    row = SeedDialogue.objects.get(source=entry["source"], external_id=entry["key"])
    pairs = dialogue_pairs(row)
    expected = [m["flow_step"] for m in entry["messages"] if m["role"] == "assistant"]
    assert [p.flow_step for p in pairs] == expected
    assert all(p.session_type == "gentle_deep" for p in pairs)
