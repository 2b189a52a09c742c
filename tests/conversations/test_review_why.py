"""On a reviewed session, a clinician sees why each user turn was scored as it was (risk
signals, nearest exemplar, the score against the thresholds that applied, the safety model
version) and the user's own rating of the session (its comment masked)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from conversations.services import chat_turn_run, session_end, session_rate
from evaluation.models import WorkItem
from training_jobs.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_reviewers_see_score_thresholds_model_and_the_users_rating(chat_ready, session, clinician):
    first = chat_turn_run(session=session, text="I feel a bit low today")
    session.refresh_from_db()
    second = chat_turn_run(session=session, text="I've been saving my pills for weeks now")
    safety = ModelVersion.objects.get(kind="safety", is_active=True)
    reason = first.user_message.risk_reason
    assert reason["model_version"] == first.reply.model_versions["safety"] != ""
    assert reason["thresholds"]["high"] == round(float(safety.thresholds["high"]), 4)
    assert reason["thresholds"]["with_history"] is False
    assert second.user_message.risk_reason["thresholds"]["with_history"] is True
    session_end(session=session)
    comment = "The pace was too quick for me, write to me at a@b.org"
    session_rate(session=session, stars=2, comment=comment)

    item = WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW, reason="sample", priority=1, required_reviews=1, session=session
    )
    client = Client()
    client.force_login(clinician)
    html = unescape(client.get(reverse("evaluation:review-item", args=[item.pk])).content.decode())
    assert "Score against the thresholds" in html
    assert f"high risk at \u2265 {reason['thresholds']['high']}" in html
    assert "(read with the earlier turns)" in html  # the second turn
    assert f"<code>{reason['model_version']}</code>" in html
    assert "the user rated it 2 of 5" in html
    assert "The pace was too quick for me" in html and "a@b.org" not in html  # masked
