"""The audit trail is append-only: the ORM refuses changes and so does the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from ari_review.audit import audit_event_record
from ari_review.models import AuditEvent, AuditImmutableError
from tests.factories import SeedDialogueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(clinician):
    return audit_event_record(
        actor=clinician, action="test.create", object_type="test", object_id=1, after={"a": 1}
    )


def test_event_records_who_when_before_and_after(event, clinician):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == clinician and stored.actor_name == clinician.username
    assert stored.created_at is not None and stored.after == {"a": 1}


def test_orm_refuses_save_update_and_delete(event):
    event.action = "tampered"
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.create"


def test_raw_sql_update_is_refused_by_the_database(event):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE evaluation_auditevent SET action = 'tampered' WHERE id = %s", [event.pk]
        )
    assert AuditEvent.objects.get(pk=event.pk).action == "test.create"


def test_raw_sql_delete_is_refused_by_the_database(event):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM evaluation_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_clinicians_with_audit_events_cannot_be_deleted(event, clinician):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        clinician.delete()


def test_deleting_a_dialogue_in_the_admin_is_audited(client, admin_user):
    from django.urls import reverse

    d = SeedDialogueFactory(title="Obsolete")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:evaluation_seeddialogue_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk], "post": "yes"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="dialogue.delete")
    assert event.before["title"] == "Obsolete" and event.actor == admin_user
