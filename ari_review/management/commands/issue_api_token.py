from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ari_review.services import api_token_create


class Command(BaseCommand):
    help = (
        "Print a new API token for a user (Authorization: Token <it>), valid for "
        "ARI_API_TOKEN_TTL_HOURS. Only its hash is stored: keep the printed value."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}", returncode=2)
        issued = api_token_create(user=user)
        self.stdout.write(issued.token)
        self.stderr.write(f"expires {issued.expiry:%Y-%m-%d %H:%M %Z}")
