"""Writes shared by the whole project: user accounts and their roles, API tokens, login
lockouts and the alert about a superuser login."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.roles import ADMIN, ROLES, roles_sync

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
SUPERUSER_LOGIN_TASK = "ari_review.tasks.superuser_login_notify_task"


@dataclass(frozen=True)
class UserUpsertResult:
    user: User
    created: bool
    password_set: bool


@transaction.atomic
def user_upsert(*, username: str, role: str, password: str | None = None) -> UserUpsertResult:
    """Create the user or update its role (and password when given).

    A user holds exactly one role group; admins are also Django staff so they can use the
    Django admin, with their group's permissions: no role is a superuser (updating a superuser
    through here takes superuser away; break-glass accounts come from ``createsuperuser``).
    A password must pass ``AUTH_PASSWORD_VALIDATORS``.
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
        try:
            password_validation.validate_password(password, user=user)
        except ValidationError as exc:
            raise ApplicationError("Password refused: " + " ".join(exc.messages)) from None
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = role == ADMIN
    user.is_superuser = False
    user.save()
    user.groups.set([groups[role]])
    return UserUpsertResult(user=user, created=created, password_set=bool(password))


@dataclass(frozen=True)
class ApiToken:
    token: str
    expiry: datetime


@transaction.atomic
def api_token_create(*, user) -> ApiToken:
    """A new API token for ``user`` (``Authorization: Token <it>``), valid for
    ``ARI_API_TOKEN_TTL_HOURS``. Only its hash is stored: the caller must keep it. A user keeps at
    most ``ARI_API_TOKEN_LIMIT_PER_USER`` live tokens: a new one revokes the oldest beyond that."""
    from django.utils import timezone
    from knox.models import AuthToken
    from knox.settings import knox_settings

    live = user.auth_token_set.filter(expiry__gt=timezone.now()).order_by("-created")
    keep = knox_settings.TOKEN_LIMIT_PER_USER - 1
    stale = list(live.values_list("digest", flat=True)[keep:])
    user.auth_token_set.filter(Q(digest__in=stale) | Q(expiry__lte=timezone.now())).delete()
    instance, token = AuthToken.objects.create(user=user)
    return ApiToken(token=token, expiry=instance.expiry)


def api_token_issue(*, user) -> str:
    """A new API token for ``user``, as the string to send (see ``api_token_create``)."""
    return api_token_create(user=user).token


def api_token_revoke(*, token) -> None:
    """Revoke one API token (``request.auth`` of a token-authenticated request)."""
    token.delete()


def api_tokens_revoke_all(*, user) -> int:
    """Revoke every API token of ``user``; returns how many."""
    count, _ = user.auth_token_set.all().delete()
    return count


@transaction.atomic
def login_lockout_reset(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift a login lockout (django-axes) of ``username`` and/or ``ip_address`` before its
    cool-off ends, and audit who did it. Returns how many lockout records were removed."""
    from axes.utils import reset

    username = (username or "").strip()
    ip_address = (ip_address or "").strip()
    if not username and not ip_address:
        raise ApplicationError("Name a username or an IP address to unlock.")
    removed = 0
    if username:
        removed += reset(username=username)
    if ip_address:
        removed += reset(ip=ip_address)
    audit_event_record(
        actor=actor,
        action="login.unlock",
        object_type="axes.accessattempt",
        object_id=username or ip_address,
        after={"username": username, "ip_address": ip_address, "records_removed": removed},
    )
    logger.warning(
        "login lockout reset by_user_id=%s removed=%s", getattr(actor, "pk", None), removed
    )
    return removed


def superuser_login_record(*, user, ip_address: str = "") -> None:
    """A superuser signed in (break-glass): audit it and e-mail every admin after commit."""
    audit_event_record(
        actor=user,
        action="login.superuser",
        obj=user,
        after={"ip_address": ip_address},
    )
    logger.warning("superuser login user_id=%s", user.pk)
    transaction.on_commit(partial(_superuser_login_notify_queue, user_id=user.pk))


def _superuser_login_notify_queue(*, user_id: int) -> None:
    from ari_review.celery import task_enqueue_nowait

    try:
        task_enqueue_nowait(SUPERUSER_LOGIN_TASK, kwargs={"user_id": user_id})
    except Exception as exc:  # the login itself must not fail; the audit event stands
        logger.error("superuser login alert not sent user_id=%s (%s)", user_id, type(exc).__name__)


def superuser_login_notify(*, user_id: int) -> int:
    """E-mail every active admin (role group) who has an address that a superuser signed in.
    Ids and a link only. Returns how many addresses were e-mailed."""
    from django.conf import settings
    from django.core.mail import send_mail

    addresses = sorted(
        set(
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(groups__name=ADMIN) | Q(is_superuser=True))
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not addresses:
        logger.warning("superuser login user_id=%s: no admin has an e-mail address", user_id)
        return 0
    send_mail(
        subject="Ari Review: a superuser account signed in",
        message=(
            f"The superuser account with id {user_id} signed in. Superuser accounts are for "
            "break-glass use only: if this was not expected, disable the account and review "
            f"the audit log at {settings.ARI_PUBLIC_URL}/audit/ now."
        ),
        from_email=None,
        recipient_list=addresses,
    )
    return len(addresses)
