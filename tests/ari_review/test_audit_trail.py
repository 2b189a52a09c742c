"""What goes into the audit trail (issue 15, part 5): logins and failed logins, every transcript
or label read, Django admin edits, role and permission changes, model changes. Events carry ids,
never message text or a typed username that matches no account."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from ari_review.models import AuditEvent
from ari_review.services import user_upsert
from conversations.models import CrisisResource
from evaluation.models import SafetyLabel
from evaluation.services import safety_label_create
from tests.evaluation.conftest import api_as
from tests.factories import ChatSessionFactory, LabelItemFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"  # tests/conftest.py's


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def dumped(event: AuditEvent) -> str:
    return json.dumps([event.object_id, event.before, event.after])


# --- Logins ---------------------------------------------------------------------------------------


def test_a_login_is_audited_with_the_user_and_address(enduser):
    response = Client(REMOTE_ADDR="10.55.0.1").post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    (event,) = events("login")
    assert event.actor == enduser and event.object_type == "auth.user"
    assert event.object_id == str(enduser.pk) and event.after == {"ip_address": "10.55.0.1"}


def test_failed_logins_are_audited_without_the_typed_text(enduser):
    client = Client(REMOTE_ADDR="10.55.0.2")
    client.post("/accounts/login/", {"username": "alice", "password": "wrong-password-1"})
    client.post("/accounts/login/", {"username": "S3cret-typed-here", "password": "x" * 12})
    known, unknown = events("login.failed")
    assert known.actor is None and known.object_id == str(enduser.pk)
    assert known.after == {"ip_address": "10.55.0.2", "known_user": True}
    assert unknown.object_id == "" and unknown.after["known_user"] is False
    for event in (known, unknown):
        text = dumped(event)
        assert "S3cret" not in text and "wrong-password" not in text


def test_api_token_logins_are_audited(clinician):
    api = APIClient(REMOTE_ADDR="10.55.0.3")
    api.post("/api/v1/auth/token/", {"username": "dr_bo", "password": "nope-nope-nope"})
    assert (
        api.post(
            "/api/v1/auth/token/", {"username": "dr_bo", "password": PASSWORD}, format="json"
        ).status_code
        == 201
    )
    assert [e.object_id for e in events("login.failed")] == [str(clinician.pk)]
    assert [e.actor for e in events("login")] == [clinician]


# --- Roles and permissions ------------------------------------------------------------------------


def test_role_changes_record_the_groups_granted_and_revoked():
    user = user_upsert(username="casey", role="enduser").user
    user_upsert(username="casey", role="clinician")
    grants = events("role.grant", object_id=str(user.pk))
    revokes = events("role.revoke", object_id=str(user.pk))
    assert [e.after for e in grants] == [{"groups": ["enduser"]}, {"groups": ["clinician"]}]
    assert [e.after for e in revokes] == [{"groups": ["enduser"]}]
    user.groups.clear()
    assert events("role.revoke", object_id=str(user.pk))[-1].after == {"groups": ["clinician"]}


def test_staff_and_superuser_flags_and_permissions_are_audited(clinician):
    clinician.is_staff = True
    clinician.save()
    (change,) = events("user.flags_change")
    assert change.before["is_staff"] is False and change.after["is_staff"] is True
    clinician.save(update_fields=["last_login"])  # no flag in it: nothing recorded
    assert len(events("user.flags_change")) == 1
    permission = Permission.objects.get(codename="view_auditevent")
    clinician.user_permissions.add(permission)
    assert events("permission.grant")[-1].after == {"permissions": ["ari_review.view_auditevent"]}
    group = Group.objects.get(name="enduser")
    group.permissions.add(permission)
    event = events("group_permission.grant")[-1]
    assert event.object_id == str(group.pk)
    assert event.after == {"group": "enduser", "permissions": ["ari_review.view_auditevent"]}
    get_user_model().objects.create_superuser("breakglass", "", "break-glass-9f3kq-x")
    created = events("user.create")[-1]
    assert created.after["is_superuser"] is True


def test_a_role_change_in_the_django_admin_names_the_admin(client, admin_user):
    user = UserFactory(username="jordan", role="enduser")
    clinician_group = Group.objects.get(name="clinician")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "jordan",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "groups": [clinician_group.pk],
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:500]
    grant = events("role.grant", object_id=str(user.pk))[-1]
    assert grant.actor == admin_user and grant.after == {"groups": ["clinician"]}
    (edit,) = events("admin.change")
    assert edit.actor == admin_user and edit.object_type == "auth.user"
    assert edit.object_id == str(user.pk)
    assert edit.after["changes"] == [{"changed": {"fields": ["Groups"]}}]


# --- Django admin edits ---------------------------------------------------------------------------


def crisis_form(**overrides) -> dict:
    return {
        "locale": "US",
        "name": "Warmline",
        "contact": "Call 1-800-000-0000",
        "phone": "",
        "sms": "",
        "url": "",
        "hours": "24/7",
        "source_url": "https://example.org/warmline",
        "last_verified": "2026-01-01",
        "position": "5",
        "active": "on",
        **overrides,
    }


def crisis_resource(name: str) -> CrisisResource:
    return CrisisResource.objects.create(
        name=name,
        contact="Call",
        source_url="https://example.org",
        last_verified=dt.date(2026, 1, 1),
    )


def test_admin_additions_changes_and_deletions_are_audited(client, admin_user):
    client.force_login(admin_user)
    add = client.post(reverse("admin:conversations_crisisresource_add"), crisis_form())
    assert add.status_code == 302
    resource = CrisisResource.objects.get(name="Warmline")
    change = client.post(
        reverse("admin:conversations_crisisresource_change", args=[resource.pk]),
        crisis_form(hours="9-5"),
    )
    assert change.status_code == 302
    (added,) = events("admin.add")
    (changed,) = events("admin.change")
    assert added.actor == admin_user and added.object_type == "conversations.crisisresource"
    assert changed.object_id == str(resource.pk)
    assert changed.after["changes"] == [{"changed": {"fields": ["Hours"]}}]
    assert "Warmline" not in dumped(added) + dumped(changed)  # ids and field names only

    one, two, three = (crisis_resource(f"r{i}") for i in range(3))
    changelist = reverse("admin:conversations_crisisresource_changelist")
    for selected in ([one.pk], [two.pk, three.pk]):
        response = client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        )
        assert response.status_code == 302
    deleted = events("admin.delete")
    assert sorted(e.object_id for e in deleted) == sorted(str(r.pk) for r in (one, two, three))
    assert {e.actor for e in deleted} == {admin_user}


# --- Transcript and label reads -------------------------------------------------------------------


def test_every_workspace_read_of_a_transcript_names_the_viewer_and_the_session(client, clinician):
    session = ChatSessionFactory(turns=[("My secret worry is the exam.", "That sounds hard.")])
    item = ReviewItemFactory(session=session)
    api = api_as(clinician)
    body = api.post("/api/v1/queues/review/next/", {}, format="json").json()
    assert body["item"]["id"] == item.pk
    api.get(f"/api/v1/work-items/{item.pk}/")
    client.force_login(clinician)
    assert client.get(reverse("evaluation:review-item", args=[item.pk])).status_code == 200
    views = events("transcript.view")
    assert [e.after["via"] for e in views] == ["api", "api", "page"]
    for event in views:
        assert event.actor == clinician and event.object_type == "conversations.chatsession"
        assert event.object_id == str(session.pk) and event.after["work_item"] == item.pk
        assert "secret" not in dumped(event)


def test_label_items_name_the_session_of_their_message_or_the_item(clinician):
    session = ChatSessionFactory()
    message = session.messages.filter(role="user").first()
    from_session = LabelItemFactory(kind="safety", message=message)
    imported = LabelItemFactory(kind="safety", text="Imported text to label.")
    api = api_as(clinician)
    api.get(f"/api/v1/work-items/{from_session.pk}/")
    api.get(f"/api/v1/work-items/{imported.pk}/")
    first, second = events("transcript.view")
    assert first.object_id == str(session.pk) and first.after["message"] == message.pk
    assert second.object_type == "evaluation.workitem" and second.object_id == str(imported.pk)


def test_admin_transcript_pages_are_audited(client, admin_user):
    """Session and message pages show the text masked (transcript.view); the work item page
    shows an item's text as written (transcript.reveal)."""
    session = ChatSessionFactory()
    message = session.messages.first()
    item = ReviewItemFactory(session=session)
    client.force_login(admin_user)
    for url in (
        reverse("admin:conversations_chatsession_change", args=[session.pk]),
        reverse("admin:conversations_message_change", args=[message.pk]),
        reverse("admin:evaluation_workitem_change", args=[item.pk]),
    ):
        assert client.get(url).status_code == 200
    views = events("transcript.view", after__via="admin")
    assert [e.object_id for e in views] == [str(session.pk)] * 2
    assert views[1].after["message"] == message.pk
    (reveal,) = events("transcript.reveal")
    assert reveal.object_id == str(session.pk) and reveal.after["work_item"] == item.pk
    assert reveal.after["masked"] is False
    assert all(e.actor == admin_user for e in [*views, reveal])


def test_reading_other_clinicians_labels_is_audited(client, clinician, admin_user):
    clinician2 = UserFactory(username="dr_two", role="clinician")
    item = LabelItemFactory(kind="safety", required_reviews=2)
    safety_label_create(item=item, clinician=clinician, risk_level="low")
    safety_label_create(item=item, clinician=clinician2, risk_level="none")
    assert api_as(clinician).get("/api/v1/disagreements/").status_code == 200
    client.force_login(admin_user)
    label = SafetyLabel.objects.filter(item=item).first()
    assert (
        client.get(reverse("admin:evaluation_safetylabel_change", args=[label.pk])).status_code
        == 200
    )
    api_event, admin_event = events("labels.view")
    assert api_event.actor == clinician and api_event.after["items"] == [item.pk]
    assert admin_event.actor == admin_user and admin_event.object_id == str(item.pk)


# --- Models and configuration --------------------------------------------------------------------


def test_training_job_requests_are_audited(admin_user):
    from training_jobs.services import training_job_create

    job = training_job_create(kind="safety", backend="linear", created_by=admin_user)
    (event,) = events("training_job.create")
    assert event.actor == admin_user and event.object_id == str(job.pk)
    assert event.after == {"kind": "safety", "backend": "linear", "activate": False}


def test_a_generation_breaker_reset_is_audited(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:conversations_generation_breakers"), {"reset": "all"})
    assert response.status_code == 302
    (event,) = events("generation_breaker.reset")
    assert event.actor == admin_user and event.object_id == "all"
