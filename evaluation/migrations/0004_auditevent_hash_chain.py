"""The audit trail's hash chain (ari_review/audit_chain.py): every event gets ``prev_hash`` and
``hash``; existing events are chained in id order. The append-only trigger is switched off for
the backfill only (PostgreSQL: the table's owner or a superuser must run this migration; see
docs/audit.md). SQLite rebuilds the table for these changes, which drops its triggers: they are
created again at the end.
"""

import importlib

import django.utils.timezone
from django.db import migrations, models

from ari_review import audit_chain

append_only = importlib.import_module("evaluation.migrations.0003_auditevent_append_only")
BATCH = 2000


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("evaluation", "AuditEvent")
    connection = schema_editor.connection
    alias = connection.alias
    if connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE evaluation_auditevent DISABLE TRIGGER evaluation_auditevent_no_change"
        )
    else:
        append_only.backward(apps, schema_editor)
    prev_hash = audit_chain.GENESIS
    batch = []
    for event in AuditEvent.objects.using(alias).order_by("id").iterator(chunk_size=BATCH):
        event.prev_hash = prev_hash
        event.hash = audit_chain.event_digest(
            prev_hash=prev_hash, fields=audit_chain.event_fields(event)
        )
        prev_hash = event.hash
        batch.append(event)
        if len(batch) >= BATCH:
            AuditEvent.objects.using(alias).bulk_update(batch, ["prev_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.using(alias).bulk_update(batch, ["prev_hash", "hash"])
    if connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(
            "ALTER TABLE evaluation_auditevent ENABLE TRIGGER evaluation_auditevent_no_change"
        )


def triggers_create(apps, schema_editor):
    append_only.forward(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0003_auditevent_append_only")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, triggers_create, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("prev_hash",), name="auditevent_chain_unique"
            ),
        ),
        migrations.RunPython(triggers_create, migrations.RunPython.noop, elidable=False),
    ]
