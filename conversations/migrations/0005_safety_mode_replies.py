from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0004_risk_signals_and_exemplars"),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencyreply",
            name="safety_clarify_text",
            field=models.TextField(
                default=(
                    "Thank you for telling me, and I'm sorry if I got that wrong. I'd rather "
                    "check than miss something important, so let me ask just once more: are you "
                    "safe right now?"
                ),
                help_text=(
                    "In safety-check mode, when the user says they were misunderstood or "
                    "joking, or answers without saying whether they are safe."
                ),
            ),
        ),
        migrations.AddField(
            model_name="emergencyreply",
            name="safety_closed_text",
            field=models.TextField(
                default=(
                    "Hi again. A member of our care team has checked in on this conversation. "
                    "I'm here whenever you'd like to keep talking, and the resources stay "
                    "available at any time."
                ),
                help_text=(
                    "Posted in the chat when a clinician closes the escalation and "
                    "safety-check mode ends."
                ),
            ),
        ),
        migrations.AddField(
            model_name="emergencyreply",
            name="safety_reminder_text",
            field=models.TextField(
                default=(
                    "I hear you, and I'm still right here with you. The people listed with my "
                    "earlier message are there for you right now, any time of day or night, if "
                    "you'd like to reach out. Are you safe right now?"
                ),
                help_text=(
                    "A new high-risk message while already in safety-check mode: short, "
                    "pointing back to the resources instead of repeating them."
                ),
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="suggested_replies",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
