"""Writes shared by the whole project: user accounts and their roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.roles import ADMIN, ROLES, roles_sync


@dataclass(frozen=True)
class UserUpsertResult:
    user: object
    created: bool
    password_set: bool


@transaction.atomic
def user_upsert(*, username: str, role: str, password: str | None = None) -> UserUpsertResult:
    """Create the user or update its role (and password when given).

    A user holds exactly one role group; admins are also Django staff so they can use the
    Django admin.
    """
    username = (username or "").strip()
    if not username:
        raise ApplicationError("Username must not be empty.")
    if role not in ROLES:
        raise ApplicationError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    groups = roles_sync()
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = role == ADMIN
    user.is_superuser = role == ADMIN
    user.save()
    user.groups.set([groups[role]])
    return UserUpsertResult(user=user, created=created, password_set=bool(password))
