from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from ari_review.roles import ROLES
from ari_review.services import user_upsert


class Command(BaseCommand):
    help = "Create a user with a role, or update an existing user's role (and password)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(ROLES)}")
        parser.add_argument("--password", default=None, help="Set this password.")

    def handle(self, *args, username, role, password, **options):
        if role not in ROLES:
            raise CommandError(
                f"unknown role {role!r}; choose one of: {', '.join(ROLES)}", returncode=2
            )
        try:
            result = user_upsert(username=username, role=role, password=password)
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        action = "Created" if result.created else "Updated"
        note = " with the given password" if result.password_set else ""
        if result.created and not result.password_set:
            note = " (no password: set one with --password to allow login)"
        self.stdout.write(f"{action} user {result.user.username!r} with role {role}{note}.")
