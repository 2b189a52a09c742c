"""The workspace end to end through the API and through the pages (no JavaScript)."""

import pytest
from django.urls import reverse

from ari_review.privacy.masking import pseudonym
from evaluation.models import IntentLabel, PreferenceJudgement, SafetyLabel, SessionRating
from tests.evaluation.conftest import api_as
from tests.factories import (
    ChatSessionFactory,
    EscalationFactory,
    LabelItemFactory,
    PreferenceItemFactory,
    ReviewItemFactory,
)

pytestmark = pytest.mark.django_db


def test_api_next_rate_next_with_masked_transcript_and_progress(clinician, enduser):
    session = ChatSessionFactory(
        user=enduser,
        turns=[("Hi, my name is Dana and my email is dana@example.com", "Hi. How are you today?")],
    )
    EscalationFactory(session=session)
    second = ReviewItemFactory(session=ChatSessionFactory(), priority=3)
    api = api_as(clinician)
    body = api.post("/api/v1/queues/review/next/", {}, format="json").json()
    item = body["item"]
    assert item["kind"] == "review" and item["reason"] == "escalated"
    assert item["session"]["user"] == pseudonym(enduser.pk)
    assert item["turns"][0]["text"] == "Hi, my name is [name] and my email is [email]"
    assert "dana" not in str(body).lower() and enduser.username not in str(body)
    assert item["turns"][1]["intent"] == "validate"
    assert item["turns"][1]["model_versions"]["generator"] == "approved"
    assert item["escalations"][0]["status"] == "open"
    assert body["progress"] == {"done_today": 0, "remaining": 2}
    reply_id = item["turns"][1]["id"]
    created = api.post(
        f"/api/v1/work-items/{item['id']}/session-rating/",
        {
            "appropriateness": "appropriate",
            "note": "ok",
            "replies": [{"message_id": reply_id, "flags": ["too_long"], "validated": True}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["item_status"] == "open"  # escalated sessions need two reviews
    follow = api.post("/api/v1/queues/review/next/", {}, format="json").json()
    assert follow["item"]["id"] == second.pk
    # The escalated item still needs a second clinician, but not this one.
    assert follow["progress"] == {"done_today": 1, "remaining": 1}
    rating = SessionRating.objects.get()
    assert rating.replies.get().flags == ["too_long"]


def test_api_bad_input_is_a_clear_400(clinician):
    item = ReviewItemFactory()
    api = api_as(clinician)
    response = api.post(
        f"/api/v1/work-items/{item.pk}/session-rating/", {"appropriateness": "meh"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("appropriateness:")
    safety = LabelItemFactory(kind="safety")
    response = api.post(
        f"/api/v1/work-items/{safety.pk}/safety-label/", {"risk_level": "high"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Choose a risk category for a medium or high risk message."
    wrong_kind = api.post(
        f"/api/v1/work-items/{safety.pk}/intent-label/", {"intent": "validate"}, format="json"
    )
    assert wrong_kind.status_code == 404


def test_blind_labelling_hides_the_model_suggestion(clinician):
    item = LabelItemFactory(kind="safety", suggestion={"risk_level": "medium", "score": 0.5})
    api = api_as(clinician)
    blind = api.post("/api/v1/queues/safety/next/", {"blind": True}, format="json").json()
    assert blind["item"]["id"] == item.pk and blind["item"]["suggestion"] is None
    shown = api.get(f"/api/v1/work-items/{item.pk}/?blind=0").json()
    assert shown["suggestion"]["risk_level"] == "medium"


def test_skipping_through_the_api_passes_the_item_over(clinician):
    first = LabelItemFactory(kind="intent", text="first", priority=0.1)
    second = LabelItemFactory(kind="intent", text="second", priority=0.2)
    api = api_as(clinician)
    assert (
        api.post("/api/v1/queues/intent/next/", {}, format="json").json()["item"]["id"] == first.pk
    )
    assert api.post(f"/api/v1/work-items/{first.pk}/release/").status_code == 204
    body = api.post("/api/v1/queues/intent/next/", {"exclude": [first.pk]}, format="json").json()
    assert body["item"]["id"] == second.pk


def test_pages_work_without_javascript(client, clinician):
    first = ReviewItemFactory(session=ChatSessionFactory(), priority=1)
    second = ReviewItemFactory(session=ChatSessionFactory(), priority=2)
    client.force_login(clinician)
    response = client.post(reverse("evaluation:queue-next", args=["review"]))
    assert response["Location"] == reverse("evaluation:review-item", args=[first.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-key="1"' in html and "<kbd>Enter</kbd>" in html and "Done today" in html
    reply = first.session.messages.filter(role="assistant").first()
    response = client.post(
        response["Location"],
        {
            "appropriateness": "excellent",
            f"reply_{reply.pk}": "1",
            f"flags_{reply.pk}": ["wrong_intent"],
            f"validated_{reply.pk}": "yes",
            "note": "",
        },
    )
    assert response["Location"] == reverse("evaluation:review-item", args=[second.pk])
    rating = SessionRating.objects.get(item=first)
    assert rating.appropriateness == "excellent"
    assert rating.replies.get().flags == ["wrong_intent"] and rating.replies.get().validated
    missing = client.post(reverse("evaluation:review-item", args=[second.pk]), {})
    assert (
        missing.status_code == 400
        and "Choose the overall appropriateness" in missing.content.decode()
    )


def test_label_and_comparison_pages_save_without_javascript(client, clinician):
    safety = LabelItemFactory(kind="safety")
    intent = LabelItemFactory(kind="intent", text="Would you like to try a breathing exercise?")
    comparison = PreferenceItemFactory(texts=("One.", "Two."))
    a, b = comparison.candidates.order_by("position")
    client.force_login(clinician)
    client.post(
        reverse("evaluation:safety-item", args=[safety.pk]),
        {"risk_level": "medium", "category": "crisis", "urgency": "high", "suggestion_shown": "0"},
    )
    client.post(
        reverse("evaluation:intent-item", args=[intent.pk]), {"intent": "offer_mindfulness"}
    )
    scores = {}
    for c in (a, b):
        scores.update(
            {f"{d}_{c.pk}": "2" for d in ("empathy", "presence", "stabilization", "safety")}
        )
    response = client.post(
        reverse("evaluation:preference-item", args=[comparison.pk]),
        {"choice": str(b.pk), "candidate": [str(a.pk), str(b.pk)], **scores, f"unsafe_{a.pk}": "1"},
    )
    assert response.status_code == 302
    assert SafetyLabel.objects.get(item=safety).category == "crisis"
    assert IntentLabel.objects.get(item=intent).intent == "offer_mindfulness"
    judgement = PreferenceJudgement.objects.get(item=comparison)
    assert judgement.effective_chosen_id == b.pk


def test_fragment_is_only_the_panel_and_candidates_are_blind(client, clinician):
    item = PreferenceItemFactory()
    client.force_login(clinician)
    html = client.get(reverse("evaluation:preference-item", args=[item.pk]) + "?fragment=1")
    text = html.content.decode()
    assert "<html" not in text and "Candidate A" in text and "Candidate C" in text
    assert "baseline" not in text and "s0" not in text  # no style or generator shown


def test_skip_page_moves_on_to_the_next_item(client, clinician):
    first = LabelItemFactory(kind="safety", priority=0.1)
    second = LabelItemFactory(kind="safety", priority=0.2)
    client.force_login(clinician)
    client.post(reverse("evaluation:queue-next", args=["safety"]))
    response = client.post(reverse("evaluation:item-skip", args=[first.pk]))
    assert response["Location"] == reverse("evaluation:safety-item", args=[second.pk])


def test_unknown_queue_is_404(client, clinician):
    assert api_as(clinician).post("/api/v1/queues/nope/next/", {}, format="json").status_code == 404
    assert api_as(clinician).get("/api/v1/queues/nope/items/").status_code == 404
    client.force_login(clinician)
    assert client.post("/work/nope/next/").status_code == 404
