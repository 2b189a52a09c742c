"""Each turn's care level (``Message.care_level``, on the user message), filled for the turns
stored before it from what their reply recorded: the fixed reply's route
(``provenance.kind``: ``emergency`` or one of safety-check mode's answers), else the message's
risk (medium: a generated reply with the safety question)."""

from django.db import migrations, models

SAFETY_MODE_KINDS = [
    "safety_reminder",
    "safety_resources",
    "safety_clarify",
    "safety_mode",
    "safety_resolved",
]


def backfill(apps, schema_editor):
    Message = apps.get_model("conversations", "Message")
    turns = Message.objects.filter(role="user", care_level="", reply__isnull=False)
    turns.filter(reply__provenance__kind="emergency").update(care_level="crisis")
    turns.filter(reply__provenance__kind__in=SAFETY_MODE_KINDS).update(care_level="safety_check")
    turns.filter(risk_level="medium").update(care_level="check_in")
    turns.update(care_level="support")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0010_releases_and_message_arms"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="care_level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("support", "Support"),
                    ("check_in", "Support with a safety question"),
                    ("safety_check", "Safety-check mode"),
                    ("crisis", "Crisis response"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
