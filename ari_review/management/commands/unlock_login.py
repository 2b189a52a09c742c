from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from ari_review.roles import ADMIN, user_has_role
from ari_review.services import login_lockout_reset


class Command(BaseCommand):
    help = (
        "Lift a login lockout (django-axes) of a username and/or a client address before its "
        "cool-off ends. Audited as login.unlock, with the admin named by --by as the actor."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="", help="The locked-out username.")
        parser.add_argument("--ip", default="", help="The locked-out client address.")
        parser.add_argument("--by", required=True, help="Username of the admin doing it.")

    def handle(self, *args, username, ip, by, **options):
        actor = get_user_model().objects.filter(username=by, is_active=True).first()
        if actor is None or not (actor.is_superuser or user_has_role(actor, ADMIN)):
            raise CommandError(f"--by {by!r} is not an active admin", returncode=2)
        try:
            removed = login_lockout_reset(actor=actor, username=username, ip_address=ip)
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(f"Unlocked; {removed} lockout record(s) removed.")
