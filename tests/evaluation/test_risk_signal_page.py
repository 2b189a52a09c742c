"""Clinicians add risk signals in the workspace: validated like the file's entries, audited,
effective at once without retraining, and end users cannot reach the page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ari_review.models import AuditEvent
from conversations.backends.safety_rules import rule_hits, rules_level
from conversations.models import RiskSignal

pytestmark = pytest.mark.django_db
TEXT = "the car keys are hidden and the spare battery is in my coat"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, **overrides):
    data = {
        "entry_id": "means.test_keys_battery",
        "level": "high",
        "category": "crisis",
        "langs": ["en"],
        "phrases": "car keys; spare keys\nspare battery",
        "window": "12",
        "note": "a test signal",
    }
    data.update(overrides)
    return client.post(reverse("evaluation:risk-signals"), data)


def test_a_clinician_adds_a_signal_that_applies_at_once_and_is_audited(clinician):
    assert rules_level(rule_hits(TEXT))[0] != "high"
    response = _post(_client(clinician))
    assert response.status_code == 302
    signal = RiskSignal.objects.get(entry_id="means.test_keys_battery")
    assert signal.phrases == [["car keys", "spare keys"], ["spare battery"]]
    hits = rule_hits(TEXT)
    assert "means.test_keys_battery" in {h.rule_id for h in hits}
    assert rules_level(hits) == ("high", "crisis")
    event = AuditEvent.objects.get(action="risk_signal.create")
    assert event.actor_id == clinician.pk and event.object_id == str(signal.pk)
    page = _client(clinician).get(reverse("evaluation:risk-signals"))
    assert "means.test_keys_battery" in page.content.decode()


def test_deactivating_a_signal_stops_it_and_is_audited(clinician):
    _post(_client(clinician))
    signal = RiskSignal.objects.get()
    response = _client(clinician).post(
        reverse("evaluation:risk-signals"), {"deactivate": signal.pk}
    )
    assert response.status_code == 302
    assert "means.test_keys_battery" not in {h.rule_id for h in rule_hits(TEXT)}
    assert AuditEvent.objects.filter(action="risk_signal.deactivate").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"entry_id": ""}, "needs an &#x27;id&#x27;"),
        ({"phrases": ""}, "&#x27;all&#x27; must be a list"),
        ({"level": "low"}, "&#x27;level&#x27; must be one of"),
        ({"langs": []}, "&#x27;langs&#x27; must list"),
        ({"window": "x"}, "&#x27;window&#x27; must be a positive"),
        ({"entry_id": "si.kms"}, "the id is already used"),
    ],
)
def test_a_bad_signal_is_a_clear_error_and_nothing_is_saved(clinician, overrides, message):
    response = _post(_client(clinician), **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RiskSignal.objects.exists()
    if "phrases" not in overrides:
        assert "car keys; spare keys" in response.content.decode()  # what they typed stays


def test_end_users_cannot_see_or_add_signals(enduser):
    client = _client(enduser)
    assert client.get(reverse("evaluation:risk-signals")).status_code == 403
    assert _post(client).status_code == 403
    assert not RiskSignal.objects.exists()
