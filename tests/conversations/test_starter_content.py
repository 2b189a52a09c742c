"""The starter content: loaded idempotently, enough of it, and all of it within the hard lines."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from conversations.catalogue import catalogue_file_read
from conversations.flows import FLOWS
from conversations.models import CrisisResource, EmergencyReply, PersonaPrompt
from conversations.services.filter import response_filter_apply
from evaluation.models import SeedDialogue
from evaluation.services.starter import STARTER_SOURCE, starter_dialogues_read

pytestmark = pytest.mark.django_db


def test_command_loads_everything_once(capsys):
    call_command("load_starter_content")
    first = capsys.readouterr().out
    call_command("load_starter_content")
    second = capsys.readouterr().out

    assert f"seed_dialogues: {len(starter_dialogues_read())} created" in first
    assert f"crisis_resources: {len(catalogue_file_read()[1])} created" in first
    assert "seed_dialogues: 0 created" in second
    assert "crisis_resources: 0 created" in second
    assert SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED).count() == len(
        starter_dialogues_read()
    )
    assert PersonaPrompt.objects.count() == 1
    assert EmergencyReply.objects.count() == 1
    assert Group.objects.filter(name="oncall").exists()


def test_starter_dialogues_enter_the_audit_trail_as_system_approved():
    from ari_review.models import AuditEvent

    call_command("load_starter_content")
    call_command("load_starter_content")
    events = AuditEvent.objects.filter(action="starter_loaded")
    dialogues = SeedDialogue.objects.filter(source=STARTER_SOURCE)
    assert events.count() == dialogues.count() == len(starter_dialogues_read())
    ids = {str(pk) for pk in dialogues.values_list("pk", flat=True)}
    assert {e.object_id for e in events} == ids
    assert all(e.actor is None and e.actor_name == "system" for e in events)
    assert all(e.after["state"] == SeedDialogue.State.APPROVED for e in events)


def test_us_catalogue_has_the_two_shipped_resources(starter_content):
    resources = {r.name: r for r in CrisisResource.objects.filter(locale="US")}
    assert set(resources) == {"988 Suicide & Crisis Lifeline", "Crisis Text Line"}
    assert resources["988 Suicide & Crisis Lifeline"].contact == "Call or text 988"
    assert resources["Crisis Text Line"].contact == "Text HOME to 741741"
    for resource in resources.values():
        assert resource.source_url.startswith("https://")
        assert resource.last_verified is not None


def test_admin_edits_survive_a_reload(starter_content):
    CrisisResource.objects.filter(name="Crisis Text Line").update(hours="Edited by an admin")
    call_command("load_starter_content")
    assert CrisisResource.objects.get(name="Crisis Text Line").hours == "Edited by an admin"


def test_persona_follows_the_principles(starter_content):
    text = PersonaPrompt.objects.get().text
    for principle in (
        "Validate",
        "Are you ready to look at this together?",
        "2-4 sentences",
        "reflective questions",
        "one small, practical experiment",
        "No medical",
        "safety",
    ):
        assert principle in text


def test_at_least_forty_dialogues_cover_every_step():
    dialogues = starter_dialogues_read()
    assert len(dialogues) >= 40
    covered = Counter((d["session_type"], d["flow_step"]) for d in dialogues)
    for session_type, steps in FLOWS.items():
        for step in steps:
            assert covered[(session_type, step)] >= 2, (session_type, step)
    assert covered[("gentle_deep", "consent_declined")] >= 2
    assert len({d["key"] for d in dialogues}) == len(dialogues)


def test_consent_is_asked_before_going_deeper():
    for d in starter_dialogues_read():
        if d["flow_step"] == "consent":
            assert d["messages"][-1]["content"].endswith("Are you ready to look at this together?")


def test_every_starter_reply_passes_the_filter_unchanged(us_catalogue):
    for d in starter_dialogues_read():
        messages = d["messages"]
        for user, assistant in zip(messages[::2], messages[1::2], strict=True):
            result = response_filter_apply(
                text=assistant["content"], catalogue=us_catalogue, user_text=user["content"]
            )
            assert result.hits == (), (d["key"], [h.rule for h in result.hits])


def test_starter_replies_are_two_to_four_sentences():
    for d in starter_dialogues_read():
        for message in d["messages"]:
            if message["role"] == "assistant":
                sentences = [s for s in message["content"].replace("?", ".").split(". ") if s]
                assert 2 <= len(sentences) <= 4, d["key"]
