import os

from django.contrib.auth import password_validation
from django.contrib.auth.management.commands import createsuperuser
from django.core import exceptions
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    help = (
        "Create a break-glass superuser (every login of one is audited and e-mailed to the "
        "admins). The password must pass AUTH_PASSWORD_VALIDATORS, with --noinput too."
    )

    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password:
            # Every user model has USERNAME_FIELD; django-stubs types UserModel as AbstractBaseUser.
            field: str = self.UserModel.USERNAME_FIELD  # type: ignore[attr-defined]
            username = options.get(field) or os.environ.get(f"DJANGO_SUPERUSER_{field.upper()}")
            email = options.get("email") or os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
            candidate = self.UserModel(**{field: username or "", "email": email or ""})
            try:
                # Any user model is accepted; django-stubs narrows user to User.
                password_validation.validate_password(password, user=candidate)  # type: ignore[arg-type]
            except exceptions.ValidationError as exc:
                raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        return super().handle(*args, **options)
