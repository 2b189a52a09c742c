"""Editing a draft release's texts (generation configuration, rule set, signal file, notes): by
the service, the API (PATCH) and the page, checked as on creation, audited without the texts,
refused past draft saying why (docs/releases.md, "Editing a draft")."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from conversations.models import PersonaPrompt, Release, ReleaseContent
from conversations.services.release_contents import shipped_text
from tests.conftest import client_for
from tests.training_jobs.releases import live_release_adopt, release_to, versioned
from training_jobs.models import ReleaseEvent
from training_jobs.releases.services import release_create, release_draft_update

# A rule set and a signal file that load, each under its own version.
RULES = versioned(shipped_text("filter_rules"), "rf-edit.1")
SIGNALS = versioned(shipped_text("risk_signals"), "signals-edit.1")
BAD_RULES = "version: x\nmax_reply_chars: 500\nrules: [{id: bad}]\n"


@pytest.fixture
def draft(settings, active_models, admin_user):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "approved"
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    live_release_adopt()
    return release_create(created_by=admin_user, notes="first try")


def _state(release: Release) -> tuple:
    release.refresh_from_db()
    return (
        release.generation_config,
        release.filter_rules_id,
        release.filter_ruleset_version,
        release.risk_signals_id,
        release.risk_signals_version,
        release.notes,
    )


def test_the_service_edits_a_draft_checked_and_audited_without_the_texts(draft, admin_user, caplog):
    PersonaPrompt.objects.create(version=2, text="You are Ari, version two.", active=False)
    signals_before = draft.risk_signals_id
    with caplog.at_level(logging.INFO):
        edited = release_draft_update(
            release_id=draft.pk,
            user=admin_user,
            generation_config={"persona_prompt_version": 2},
            filter_rules_yaml=RULES,
        )

    edited.refresh_from_db()
    assert edited.filter_ruleset_version == "rf-edit.1"
    assert edited.filter_rules.text == RULES
    assert edited.generation_config["persona_prompt_version"] == 2
    assert edited.generation_config["generator"] == "approved"  # left out: unchanged
    assert edited.risk_signals_id == signals_before and edited.notes == "first try"
    event = ReleaseEvent.objects.get(release=draft, kind="edit")
    assert event.actor == admin_user
    assert event.evidence == {"fields": ["generation_config", "filter_rules"]}
    assert event.reason == "Changed: generation configuration, response-filter rule set"
    audit = AuditEvent.objects.get(action="release.edit", object_id=str(draft.pk))
    assert audit.actor_name == admin_user.username and audit.created_at is not None
    assert audit.after["fields"] == ["generation_config", "filter_rules"]
    assert audit.after["filter_ruleset_version"] == "rf-edit.1"
    assert audit.before["filter_ruleset_version"] != "rf-edit.1"
    # The texts are stored on the release, never in the audit or the logs.
    rule_line = max(RULES.splitlines(), key=len)
    assert rule_line.strip() not in json.dumps([audit.before, audit.after])
    logged = [r.getMessage() for r in caplog.records]
    assert any(f"release draft edited release_id={draft.pk}" in m for m in logged)
    assert not any(rule_line.strip() in m for m in logged)


def test_an_edit_that_changes_nothing_records_nothing(draft, admin_user):
    release_draft_update(release_id=draft.pk, user=admin_user, notes="first try")
    assert not ReleaseEvent.objects.filter(release=draft, kind="edit").exists()
    assert not AuditEvent.objects.filter(action="release.edit").exists()


def test_switching_the_generator_resets_the_old_backends_keys(draft, admin_user, settings):
    settings.OPENAI_MODEL = "settings-model"
    release_draft_update(
        release_id=draft.pk,
        user=admin_user,
        generation_config={"generator": "openai", "llm_model": "my-model"},
    )
    assert _state(draft)[0]["llm_model"] == "my-model"
    release_draft_update(
        release_id=draft.pk, user=admin_user, generation_config={"generator": "composed"}
    )
    assert _state(draft)[0]["llm_model"] == ""
    with pytest.raises(ApplicationError, match="served only with the openai generator"):
        release_draft_update(
            release_id=draft.pk, user=admin_user, generation_config={"llm_model": "again"}
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"filter_rules_yaml": BAD_RULES}, "rule bad"),
        ({"risk_signals_yaml": "version: s\nentries:\n  - {id: sig.x, level: low}\n"}, "sig.x"),
        ({"generation_config": {"persona_prompt_version": 99}}, "Persona prompt version 99"),
        (
            {"generation_config": {"generator": "transformers", "transformers_model_dir": "rel"}},
            "is not an absolute path",
        ),
    ],
)
def test_a_bad_edit_is_refused_naming_what_is_wrong_and_nothing_is_saved(
    draft, admin_user, change, message
):
    before = (_state(draft), ReleaseContent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ApplicationError, match=message):
        release_draft_update(release_id=draft.pk, user=admin_user, notes="changed", **change)
    after = (_state(draft), ReleaseContent.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_only_a_draft_can_be_edited_and_later_stages_say_why(draft, admin_user, client):
    release = release_to(draft, "staging", admin_user)
    why = "cannot be edited: what it serves was fixed when it entered staging"
    before = _state(release)
    with pytest.raises(ApplicationError, match=why):
        release_draft_update(release_id=release.pk, user=admin_user, filter_rules_yaml=RULES)
    answer = client_for(admin_user).patch(
        reverse("api-release-update", args=[release.pk]), {"notes": "late"}, format="json"
    )
    assert answer.status_code == 400 and why in answer.json()["detail"]
    client.force_login(admin_user)
    detail = client.get(reverse("training_jobs:release-detail", args=[release.pk]))
    assert reverse("training_jobs:release-edit", args=[release.pk]) in detail.content.decode()
    page = client.get(reverse("training_jobs:release-edit", args=[release.pk])).content.decode()
    assert 'data-testid="not-editable"' in page and why in page
    assert 'name="filter_rules_yaml"' not in page
    posted = client.post(reverse("training_jobs:release-edit", args=[release.pk]), {"notes": "x"})
    assert posted.status_code == 400 and why in posted.content.decode()
    assert _state(release) == before


def test_the_api_patches_a_draft_admins_only_and_is_documented(draft, admin_user, clinician):
    url = reverse("api-release-update", args=[draft.pk])
    refused = client_for(clinician).patch(url, {"risk_signals_yaml": SIGNALS}, format="json")
    assert refused.status_code == 403
    api = client_for(admin_user)
    bad = api.patch(url, {"filter_rules_yaml": BAD_RULES}, format="json")
    assert bad.status_code == 400 and "rule bad" in bad.json()["detail"]
    answer = api.patch(url, {"risk_signals_yaml": SIGNALS, "notes": "second"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["risk_signals_version"] == "signals-edit.1"
    assert _state(draft)[4:] == ("signals-edit.1", "second")
    event = ReleaseEvent.objects.get(release=draft, kind="edit")
    assert event.evidence == {"fields": ["risk_signals", "notes"]}
    # A YAML given blank goes back to the shipped file.
    api.patch(url, {"risk_signals_yaml": ""}, format="json")
    draft.refresh_from_db()
    assert draft.risk_signals.text == shipped_text("risk_signals")
    schema = api.get("/api/schema/").content.decode()
    assert "/api/v1/releases/{release_id}/update/" in schema
    assert "Edit a draft release" in schema


def _form(release: Release, **changes) -> dict:
    """The edit form as the page fills it, with the browser's CRLF line breaks, and changes."""
    page = {
        key: "" if value is None else str(value) for key, value in release.generation_config.items()
    }
    page["filter_rules_yaml"] = release.filter_rules.text.replace("\n", "\r\n")
    page["risk_signals_yaml"] = release.risk_signals.text.replace("\n", "\r\n")
    page["notes"] = release.notes
    return {**page, **changes}


def test_the_edit_page_saves_a_draft_and_keeps_what_the_admin_typed_when_refused(
    draft, admin_user, client
):
    client.force_login(admin_user)
    edit_url = reverse("training_jobs:release-edit", args=[draft.pk])
    detail = client.get(reverse("training_jobs:release-detail", args=[draft.pk])).content.decode()
    assert edit_url in detail
    page = client.get(edit_url).content.decode()
    assert 'name="filter_rules_yaml"' in page and "first try" in page

    typed = BAD_RULES + "# <b>kept</b>\n"
    refused = client.post(edit_url, _form(draft, filter_rules_yaml=typed))
    body = refused.content.decode()
    assert refused.status_code == 400
    assert 'data-testid="edit-error"' in body and "rule bad" in body
    assert "# &lt;b&gt;kept&lt;/b&gt;" in body  # what was typed is back, escaped
    assert not ReleaseEvent.objects.filter(release=draft, kind="edit").exists()

    unchanged = client.post(edit_url, _form(draft))
    assert unchanged.status_code == 302
    assert not ReleaseEvent.objects.filter(release=draft, kind="edit").exists()

    saved = client.post(edit_url, _form(draft, risk_signals_yaml=SIGNALS.replace("\n", "\r\n")))
    assert saved.status_code == 302 and saved["Location"].endswith(f"/releases/{draft.pk}/")
    state = _state(draft)
    assert state[4] == "signals-edit.1" and draft.risk_signals.text == SIGNALS
    event = ReleaseEvent.objects.get(release=draft, kind="edit")
    assert event.evidence == {"fields": ["risk_signals"]}
    timeline = client.get(reverse("training_jobs:release-detail", args=[draft.pk]))
    assert "Draft edited" in timeline.content.decode()
