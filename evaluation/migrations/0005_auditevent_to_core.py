"""The audit trail moved to the core app (``ari_review.AuditEvent``, ari_review/0001). State
only: the table keeps its name, triggers and rows. Its content type (and so its permissions)
follows it, so granted permissions and admin log entries stay attached."""

from django.db import migrations


def content_type_move(apps, schema_editor, *, source: str, target: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=source, model="auditevent").exists():
        return  # a new database: post_migrate creates the content type where the model is
    # After a migration back and forth, post_migrate may have created an empty one at the
    # target meanwhile: the original (with the permissions granted on it) wins.
    types.filter(app_label=target, model="auditevent").delete()
    types.filter(app_label=source, model="auditevent").update(app_label=target)


def forwards(apps, schema_editor):
    content_type_move(apps, schema_editor, source="evaluation", target="ari_review")


def backwards(apps, schema_editor):
    content_type_move(apps, schema_editor, source="ari_review", target="evaluation")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("evaluation", "0004_auditevent_hash_chain"),
        ("ari_review", "0001_auditevent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
