"""Signal receivers of the accounts side: each one calls a service and does nothing else."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save


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


def logged_in_audit(sender, request, user, **kwargs) -> None:
    """Every other login is audited too (superusers: ``superuser_logged_in``)."""
    if getattr(user, "is_superuser", False):
        return
    from ari_review.account_audit import login_record

    login_record(user=user, request=request)


def two_factor_login_note(sender, request, user, **kwargs) -> None:
    """A clinician or admin with a second factor (or who must set one up) owes it now."""
    from ari_review.two_factor import two_factor_login_note as note

    note(request=request, user=user)


def login_failed_audit(sender, credentials, request=None, **kwargs) -> None:
    from ari_review.account_audit import login_failed_record

    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    login_failed_record(username=str(username or ""), request=request)


_M2M_CHANGES = {"post_add": "grant", "post_remove": "revoke", "pre_clear": "revoke"}


def _membership_receiver(relation: str):
    def receiver(sender, instance, action, reverse, pk_set, **kwargs) -> None:
        change = _M2M_CHANGES.get(action)
        if change is None:
            return
        if action == "pre_clear":  # pk_set is None: what is about to go
            related = getattr(instance, _CLEAR_ACCESSORS[(relation, reverse)])
            pk_set = set(related.values_list("pk", flat=True))
        from ari_review.account_audit import membership_change_record

        membership_change_record(
            relation=relation, instance=instance, change=change, ids=pk_set, reverse=reverse
        )

    return receiver


# The manager on ``instance`` that a clear empties, per (relation, reverse).
_CLEAR_ACCESSORS = {
    ("groups", False): "groups",
    ("groups", True): "user_set",
    ("user_permissions", False): "user_permissions",
    ("user_permissions", True): "user_set",
    ("group_permissions", False): "permissions",
    ("group_permissions", True): "group_set",
}
user_groups_changed = _membership_receiver("groups")
user_permissions_changed = _membership_receiver("user_permissions")
group_permissions_changed = _membership_receiver("group_permissions")


def user_flags_remember(sender, instance, update_fields=None, **kwargs) -> None:
    from ari_review.account_audit import FLAGS, user_flags_snapshot

    if update_fields is not None and not set(update_fields) & set(FLAGS):
        return
    instance._ari_flags_before = user_flags_snapshot(user=instance)


def user_flags_audit(sender, instance, created, update_fields=None, **kwargs) -> None:
    if not hasattr(instance, "_ari_flags_before"):
        return
    from ari_review.account_audit import user_flags_change_record

    before = instance.__dict__.pop("_ari_flags_before")
    user_flags_change_record(user=instance, before=before, created=created)


def admin_log_entry_audit(sender, instance, created, **kwargs) -> None:
    """Every Django admin addition, change and deletion (LogEntry) goes into the audit trail."""
    if created:
        from ari_review.account_audit import admin_log_record

        admin_log_record(entry=instance)


def connect() -> None:
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group

    User = get_user_model()
    user_logged_in.connect(superuser_logged_in, dispatch_uid="ari_review.superuser_logged_in")
    user_logged_in.connect(logged_in_audit, dispatch_uid="ari_review.logged_in_audit")
    user_logged_in.connect(two_factor_login_note, dispatch_uid="ari_review.two_factor")
    user_login_failed.connect(login_failed_audit, dispatch_uid="ari_review.login_failed_audit")
    for through, receiver in (
        (User.groups.through, user_groups_changed),
        (User.user_permissions.through, user_permissions_changed),
        (Group.permissions.through, group_permissions_changed),
    ):
        m2m_changed.connect(receiver, sender=through, dispatch_uid=f"ari_review.{through.__name__}")
    pre_save.connect(user_flags_remember, sender=User, dispatch_uid="ari_review.user_flags")
    post_save.connect(user_flags_audit, sender=User, dispatch_uid="ari_review.user_flags")
    post_save.connect(admin_log_entry_audit, sender=LogEntry, dispatch_uid="ari_review.admin_log")
    pre_save.connect(
        password_policy_enforce,
        sender=get_user_model(),
        dispatch_uid="ari_review.password_policy_enforce",
    )
