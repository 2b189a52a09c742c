"""Signal receivers of the accounts side: each one calls a service and does nothing else."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save


def superuser_logged_in(sender, request, user, **kwargs) -> None:
    """Every superuser login (page, Django admin or API token) is audited and alerts admins."""
    if not getattr(user, "is_superuser", False):
        return
    from ari_review.services import superuser_login_record
    from ari_review.throttles import client_ip

    superuser_login_record(user=user, ip_address=client_ip(request) if request else "")


def password_policy_enforce(sender, instance, **kwargs) -> None:
    """A password set on any path (user_upsert, the admin's forms, changepassword, createsuperuser
    with or without --noinput, code) must pass AUTH_PASSWORD_VALIDATORS: ``set_password`` keeps
    the raw value until the save, and this is the one place that sees every one of them."""
    raw = getattr(instance, "_password", None)
    if raw is not None:
        password_validation.validate_password(raw, user=instance)


def connect() -> None:
    user_logged_in.connect(superuser_logged_in, dispatch_uid="ari_review.superuser_logged_in")
    pre_save.connect(
        password_policy_enforce,
        sender=get_user_model(),
        dispatch_uid="ari_review.password_policy_enforce",
    )
