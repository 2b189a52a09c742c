"""The crisis catalogue per locale: the data file (every entry sourced and dated), which
country's lines a person sees (their choice, else their browser's region, else the
international directory), and the verification warnings (check --deploy, admin)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from ari_review.models import AuditEvent
from conversations.catalogue import (
    CatalogueFileError,
    accept_language_regions,
    catalogue_file_read,
    crisis_locale_choose,
)
from conversations.models import ChatSession, CrisisResource
from conversations.selectors import crisis_resources_list
from tests.factories import UserFactory

REGIONS = {"US", "GB", "IE", "CA", "AU", "NZ", "DE", "FR", "ES", "IN"}
# The numbers the file may dial, reviewed one by one against each service's own page. A new
# number fails this test until someone adds it here after checking it at its source.
REVIEWED_NUMBERS = {
    "US": {"988", "741741"},
    "GB": {"116123", "85258"},
    "IE": {"116123", "50808"},
    "CA": {"988", "18006686868", "686868"},
    "AU": {"131114"},
    "NZ": {"1737"},
    "DE": {"08001110111"},
    "FR": {"3114"},
    "ES": {"024"},
    "IN": {"14416"},
    "INTL": set(),
}


def test_the_data_file_covers_ten_countries_and_the_international_directory():
    version, entries = catalogue_file_read()
    assert version
    assert {e["locale"] for e in entries} == REGIONS | {"INTL"}
    for entry in entries:
        assert entry["source_url"].startswith("https://"), entry["name"]
        assert isinstance(entry["last_verified"], dt.date)
        assert entry["verified_by"] == ""  # nobody on an installation has checked it yet
        assert entry["phone"] or entry["sms"] or entry["url"], entry["name"]
        dialled = {n for n in (entry["phone"], entry["sms"]) if n}
        assert dialled <= REVIEWED_NUMBERS[entry["locale"]], entry["name"]
    (intl,) = [e for e in entries if e["locale"] == "INTL"]
    assert intl["url"] == "https://findahelpline.com/"


HEAD = "version: '1'\nresources:\n  - {locale: US, name: X, contact: Y, "
SOURCE = "source_url: 'https://a.example', "


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (HEAD + "verified: 2026-01-01}", "source_url"),
        (HEAD + SOURCE + "phone: 'call 988', verified: 2026-01-01}", "digits"),
        (HEAD + "source_url: 'http://a.example', verified: 2026-01-01}", "https"),
        (HEAD + "source_url: 'https://a.example'}", "verified"),
        ("resources: []", "version"),
    ],
)
def test_an_invalid_data_file_is_refused_with_the_field_named(tmp_path, broken, message):
    path = tmp_path / "catalogue.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogueFileError, match=message):
        catalogue_file_read(path)


@pytest.mark.parametrize(
    ("header", "regions"),
    [
        ("en-GB,en;q=0.9", ["GB"]),
        ("fr-CA;q=0.5, de-DE", ["DE", "CA"]),
        ("zh-Hant-TW", ["TW"]),
        ("en", []),
        ("", []),
        ("en-US;q=0", []),
    ],
)
def test_regions_of_an_accept_language_header(header, regions):
    assert accept_language_regions(header) == regions


AVAILABLE = REGIONS | {"INTL"}


@pytest.mark.parametrize(
    ("preference", "header", "expected"),
    [
        ("", "en-GB,en;q=0.9", "GB"),
        ("", "de-DE", "DE"),
        ("", "es-ES", "ES"),
        ("", "en-IN", "IN"),
        ("", "pt-BR,pt", "INTL"),  # a country the catalogue does not cover
        ("", "pt-BR,en-IE;q=0.4", "IE"),  # ... unless a later language's region is covered
        ("", "en", "US"),  # no region at all: the installation's default
        ("NZ", "en-GB", "NZ"),  # the person's own choice wins
        ("uk", "en-US", "GB"),
        ("XX", "fr-FR", "FR"),  # a choice the catalogue does not cover is ignored
    ],
)
def test_which_country_a_person_sees(preference, header, expected):
    chosen = crisis_locale_choose(
        preference=preference, accept_language=header, available=AVAILABLE, default="US"
    )
    assert chosen == expected


@pytest.mark.django_db
def test_a_session_started_from_a_german_browser_shows_german_lines(client, starter_content):
    user = UserFactory(username="dana", role="enduser")
    client.force_login(user)
    response = client.post(
        reverse("conversations:start"),
        {"session_type": "check_in"},
        HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5",
    )
    session = ChatSession.objects.get(user=user)
    assert session.locale == "DE"
    assert [r.name for r in crisis_resources_list(locale=session.locale)] == ["TelefonSeelsorge"]
    page = client.get(response["Location"])
    assert b"tel:08001110111" in page.content
    assert b"988" not in page.content

    # Choosing a country in the preferences changes the open session's lines at once.
    client.post(
        reverse("conversations:preferences"),
        {"session_id": str(session.public_id), "crisis_region": "IE"},
    )
    session.refresh_from_db()
    assert session.locale == "IE"
    assert b"Samaritans Ireland" in client.get(response["Location"]).content
    refused = client.post(
        reverse("conversations:preferences"),
        {"session_id": str(session.public_id), "crisis_region": "BR"},
        follow=True,
    )
    assert b"Choose a country from the list" in refused.content
    session.refresh_from_db()
    assert session.locale == "IE"


@pytest.mark.django_db
def test_a_country_without_entries_falls_back_to_the_international_directory(starter_content):
    assert [r.name for r in crisis_resources_list(locale="BR")] == ["Find A Helpline"]


@pytest.mark.django_db
def test_check_deploy_warns_until_an_admin_verifies_each_entry(client, starter_content):
    ids = [w.id for w in run_checks(include_deployment_checks=True, tags=["crisis_catalogue"])]
    assert ids == ["conversations.W002"]

    admin = UserFactory(username="ada", role="admin")
    client.force_login(admin)
    changelist = reverse("admin:conversations_crisisresource_changelist")
    listed = client.get(changelist, {"verification": "never_here"})
    assert listed.status_code == 200
    assert b"Never verified on this installation" in listed.content
    everything = list(CrisisResource.objects.values_list("pk", flat=True))
    response = client.post(
        changelist, {"action": "mark_verified_today", "_selected_action": everything}
    )
    assert response.status_code == 302
    assert set(CrisisResource.objects.values_list("verified_by", flat=True)) == {"ada"}
    events = AuditEvent.objects.filter(action="crisis_resource.verify")
    assert events.count() == len(everything)
    assert run_checks(include_deployment_checks=True, tags=["crisis_catalogue"]) == []

    # An entry not verified for 12 months is flagged in the admin and warned about.
    old = CrisisResource.objects.get(name="Samaritans")
    old.last_verified = dt.date.today() - dt.timedelta(days=400)
    old.save()
    warnings = run_checks(include_deployment_checks=True, tags=["crisis_catalogue"])
    assert [w.id for w in warnings] == ["conversations.W003"]
    assert "Samaritans (GB)" in warnings[0].msg
    stale = client.get(changelist, {"verification": "stale"})
    assert b"Not verified for 12 months" in stale.content
    assert stale.context["cl"].result_count == 1
