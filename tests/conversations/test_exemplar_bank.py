"""The exemplar bank: shipped exemplars load once, every chat turn stores its nearest exemplar,
reviewers see it with the risk signals as the reason, and a clinician adds a labelled message
in one action (masked, audited)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from ari_review.models import AuditEvent
from conversations.models import Message, RiskExemplar
from conversations.services import chat_turn_run
from conversations.services.exemplars import exemplar_nearest, exemplars_load_shipped
from evaluation.models import WorkItem
from tests.factories import ChatSessionFactory, LabelItemFactory, MessageFactory
from training_jobs.ml.labels import HIGH_FAMILIES

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_shipped_exemplars_load_once_and_cover_the_high_risk_families():
    created = exemplars_load_shipped()
    assert created == RiskExemplar.objects.count() >= 40
    assert exemplars_load_shipped() == 0
    families = set(RiskExemplar.objects.filter(risk_level="high").values_list("family", flat=True))
    assert families == set(HIGH_FAMILIES)
    assert RiskExemplar.objects.filter(risk_level="none").exists()  # hard negatives too


def test_a_chat_turn_stores_its_nearest_exemplar_and_reviewers_see_why(
    chat_ready, session, clinician
):
    result = chat_turn_run(session=session, text="I've been saving my pills for weeks now")
    exemplar = result.user_message.risk_reason["exemplar"]
    stored = RiskExemplar.objects.get(pk=exemplar["id"])
    assert exemplar["family"] == stored.family and exemplar["risk_level"] == stored.risk_level
    assert 0.0 < exemplar["similarity"] <= 1.0
    assert exemplar == exemplar_nearest("I've been saving my pills for weeks now")
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW, reason="sample", priority=1, required_reviews=1, session=session
    )
    page = _client(clinician).get(reverse("evaluation:review-item", args=[item.pk]))
    html = unescape(page.content.decode())
    assert "Nearest exemplar" in html
    assert stored.text in html


def test_a_clinician_adds_a_labelled_message_in_one_action(clinician):
    session = ChatSessionFactory()
    message = MessageFactory(
        session=session,
        role="user",
        text="I put the spare car keys where nobody finds them, write to me at a@b.org",
    )
    item = LabelItemFactory(kind=WorkItem.Kind.SAFETY, message=message)
    url = reverse("evaluation:exemplar-add", args=[item.pk])
    response = _client(clinician).post(
        url, {"risk_level": "high", "family": "preparation", "lang": "en"}
    )
    assert response.status_code == 302
    exemplar = RiskExemplar.objects.get(source="workspace")
    assert "a@b.org" not in exemplar.text  # masked, like everything reviewers see
    assert (exemplar.family, exemplar.added_by, exemplar.from_message) == (
        "preparation",
        clinician,
        message,
    )
    assert AuditEvent.objects.filter(action="risk_exemplar.add", actor=clinician).count() == 1
    assert exemplar_nearest(message.text)["id"] == exemplar.pk  # it applies at once
    again = _client(clinician).post(
        url, {"risk_level": "high", "family": "preparation", "lang": "en"}, follow=True
    )
    assert "already in the exemplar bank" in again.content.decode()
    wrong = _client(clinician).post(url, {"risk_level": "high", "family": "hn_kill"}, follow=True)
    assert "is not a high family" in wrong.content.decode()
    assert RiskExemplar.objects.count() == 1


def test_replies_and_end_users_cannot_add_exemplars(clinician, enduser):
    session = ChatSessionFactory()
    reply = MessageFactory(session=session, role="assistant", text="That sounds heavy.")
    item = LabelItemFactory(kind=WorkItem.Kind.SAFETY, message=reply)
    url = reverse("evaluation:exemplar-add", args=[item.pk])
    data = {"risk_level": "high", "family": "means"}
    assert _client(enduser).post(url, data).status_code == 403
    refused = _client(clinician).post(url, data, follow=True)
    assert "Only a user" in refused.content.decode()
    assert not RiskExemplar.objects.exists()
    assert Message.objects.filter(pk=reply.pk).exists()
