import os

from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from evaluation.services.audit_roles import DEFAULT_OWNER_ROLE, audit_roles_setup


class Command(BaseCommand):
    help = (
        "PostgreSQL, as a superuser: give the audit table to its own NOLOGIN role and let the "
        "application's role only SELECT and INSERT it (no UPDATE, DELETE, TRUNCATE or trigger "
        "changes). Creates the roles that are missing; safe to run again. See docs/audit.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-role", required=True, help="The role the application connects as."
        )
        parser.add_argument(
            "--owner-role",
            default=DEFAULT_OWNER_ROLE,
            help=f"The role that owns the audit table (default {DEFAULT_OWNER_ROLE}).",
        )
        parser.add_argument(
            "--password-env",
            default="ARI_APP_DB_PASSWORD",
            help="Environment variable holding the password of a new application role.",
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, app_role, owner_role, password_env, database, **options):
        try:
            done = audit_roles_setup(
                app_role=app_role,
                owner_role=owner_role,
                app_password=os.environ.get(password_env) or None,
                using=database,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        for line in done:
            self.stdout.write(line)
