from django.core.management.base import BaseCommand

from ari_review.services import user_upsert

# One account per role for the quick start. These passwords are documented in the README and
# are for local demos only (they pass AUTH_PASSWORD_VALIDATORS, as every password must).
DEMO_ACCOUNTS = (
    ("demo_user", "enduser", "ari-local-chat-1"),
    ("demo_clinician", "clinician", "ari-local-review-1"),
    ("demo_admin", "admin", "ari-local-models-1"),
)


class Command(BaseCommand):
    help = "Create the demo accounts (one per role) and load the starter data. Idempotent."

    def handle(self, *args, **options):
        for username, role, password in DEMO_ACCOUNTS:
            result = user_upsert(username=username, role=role, password=password)
            verb = "created" if result.created else "updated"
            self.stdout.write(f"{username} ({role}) {verb}")
