"""The audit trail moves to the core app (every app writes it). State only: the table
``evaluation_auditevent``, its append-only triggers (evaluation/0003) and its hash chain
(evaluation/0004) stay as they are."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("evaluation", "0004_auditevent_hash_chain"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                        ("actor_name", models.CharField(blank=True, default="", max_length=150)),
                        ("action", models.CharField(db_index=True, max_length=60)),
                        ("object_type", models.CharField(max_length=60)),
                        ("object_id", models.CharField(max_length=64)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        ("prev_hash", models.CharField(editable=False, max_length=64)),
                        ("hash", models.CharField(editable=False, max_length=64)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "evaluation_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
                            models.Index(fields=["actor", "-created_at"], name="auditevent_actor"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("prev_hash",), name="auditevent_chain_unique")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
