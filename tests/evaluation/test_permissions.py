"""Every workspace page and endpoint: anonymous users are sent away, end users get 403,
clinicians and admins get in (the audit log: admins only)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.evaluation.conftest import api_as
from tests.factories import (
    ChatSessionFactory,
    EscalationFactory,
    LabelItemFactory,
    PreferenceItemFactory,
    ReviewItemFactory,
    SeedDialogueFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(db):
    session = ChatSessionFactory()
    return {
        "review": ReviewItemFactory(session=session),
        "safety": LabelItemFactory(kind="safety"),
        "intent": LabelItemFactory(kind="intent", text="That sounds hard."),
        "preference": PreferenceItemFactory(),
        "dialogue": SeedDialogueFactory(),
        "escalation": EscalationFactory(session=session),
    }


def page_urls(o):
    return [
        ("get", reverse("evaluation:review-queue"), False),
        ("get", reverse("evaluation:safety-labelling"), False),
        ("get", reverse("evaluation:intent-labelling"), False),
        ("get", reverse("evaluation:preference-queue"), False),
        ("get", reverse("evaluation:review-item", args=[o["review"].pk]), False),
        ("get", reverse("evaluation:safety-item", args=[o["safety"].pk]), False),
        ("get", reverse("evaluation:intent-item", args=[o["intent"].pk]), False),
        ("get", reverse("evaluation:preference-item", args=[o["preference"].pk]), False),
        ("get", reverse("evaluation:dialogue-list"), False),
        ("get", reverse("evaluation:dialogue-create"), False),
        ("get", reverse("evaluation:dialogue-import"), False),
        ("get", reverse("evaluation:dialogue-detail", args=[o["dialogue"].pk]), False),
        ("get", reverse("evaluation:agreement"), False),
        ("get", reverse("evaluation:adjudication"), False),
        ("get", reverse("evaluation:dashboards"), False),
        ("get", reverse("evaluation:plotly-js"), False),
        ("get", reverse("evaluation:audit-log"), True),
        ("post", reverse("evaluation:queue-next", args=["safety"]), False),
        ("post", reverse("evaluation:item-lock", args=[o["safety"].pk]), False),
        ("post", reverse("evaluation:item-skip", args=[o["intent"].pk]), False),
        ("post", reverse("evaluation:escalation-close", args=[o["escalation"].pk]), False),
    ]


def api_urls(o):
    item = o["review"].pk
    d = o["dialogue"].pk
    return [
        ("get", "/api/v1/queues/review/items/", False),
        ("post", "/api/v1/queues/safety/next/", False),
        ("get", "/api/v1/queues/intent/progress/", False),
        ("get", f"/api/v1/work-items/{item}/", False),
        ("post", f"/api/v1/work-items/{item}/lock/", False),
        ("post", f"/api/v1/work-items/{item}/release/", False),
        ("post", f"/api/v1/work-items/{item}/session-rating/", False),
        ("post", f"/api/v1/work-items/{o['safety'].pk}/safety-label/", False),
        ("post", f"/api/v1/work-items/{o['intent'].pk}/intent-label/", False),
        ("post", f"/api/v1/work-items/{o['preference'].pk}/preference/", False),
        ("post", f"/api/v1/work-items/{item}/adjudication/", False),
        ("post", f"/api/v1/escalations/{o['escalation'].pk}/close/", False),
        ("get", "/api/v1/dialogues/", False),
        ("post", "/api/v1/dialogues/create/", False),
        ("post", "/api/v1/dialogues/import/", False),
        ("get", f"/api/v1/dialogues/{d}/", False),
        ("patch", f"/api/v1/dialogues/{d}/update/", False),
        ("post", f"/api/v1/dialogues/{d}/submit/", False),
        ("post", f"/api/v1/dialogues/{d}/approve/", False),
        ("post", f"/api/v1/dialogues/{d}/reject/", False),
        ("post", f"/api/v1/dialogues/{d}/variants/", False),
        ("get", "/api/v1/agreement/", False),
        ("get", "/api/v1/disagreements/", False),
        ("get", "/api/v1/metrics/", False),
        ("get", "/api/v1/audit-events/", True),
    ]


def test_anonymous_users_are_sent_to_login_or_refused(client, objects):
    for method, url, _ in page_urls(objects):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    api = APIClient()
    for method, url, _ in api_urls(objects):
        assert getattr(api, method)(url, {}, format="json").status_code in (401, 403), url


def test_end_users_get_403_everywhere(client, enduser, objects):
    client.force_login(enduser)
    for method, url, _ in page_urls(objects):
        assert getattr(client, method)(url).status_code == 403, url
    api = api_as(enduser)
    for method, url, _ in api_urls(objects):
        assert getattr(api, method)(url, {}, format="json").status_code == 403, url


@pytest.mark.parametrize("role", ["clinician", "admin_user"])
def test_clinicians_and_admins_may_use_the_workspace_only_admins_see_audit(
    request, client, role, objects
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    is_admin = role == "admin_user"
    for method, url, admin_only in page_urls(objects):
        status = getattr(client, method)(url).status_code
        if admin_only and not is_admin:
            assert status == 403, url
        else:
            assert status == (200 if method == "get" else 302), (url, status)
    api = api_as(user)
    for method, url, admin_only in api_urls(objects):
        status = getattr(api, method)(url, {}, format="json").status_code
        if admin_only and not is_admin:
            assert status == 403, url
        else:
            assert status not in (401, 403), (url, status)


def test_only_senior_clinicians_may_adjudicate(clinician, clinician2, admin_user):
    from django.contrib.auth.models import Permission

    from evaluation.services import safety_label_create

    item = LabelItemFactory(kind="safety", required_reviews=2)
    safety_label_create(item=item, clinician=clinician, risk_level="low")
    safety_label_create(item=item, clinician=clinician2, risk_level="none")
    url = f"/api/v1/work-items/{item.pk}/adjudication/"
    body = {"label_set": "safety.risk_level", "value": "low", "reason": "Mild distress."}
    assert api_as(clinician).post(url, body, format="json").status_code == 403
    clinician.user_permissions.add(Permission.objects.get(codename="adjudicate"))
    clinician.refresh_from_db()
    senior = type(clinician).objects.get(pk=clinician.pk)  # fresh permission cache
    assert api_as(senior).post(url, body, format="json").status_code == 201
    again = api_as(admin_user).post(url, body, format="json")
    assert again.status_code == 400 and "already been decided" in again.json()["detail"]


def test_openapi_schema_documents_the_workspace(clinician):
    response = api_as(clinician).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/queues/{kind}/next/",
        "/api/v1/work-items/{item_id}/session-rating/",
        "/api/v1/work-items/{item_id}/safety-label/",
        "/api/v1/work-items/{item_id}/preference/",
        "/api/v1/dialogues/{dialogue_id}/approve/",
        "/api/v1/agreement/",
        "/api/v1/audit-events/",
    ):
        assert path in paths, path
