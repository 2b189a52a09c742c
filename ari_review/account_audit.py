"""Audit events of the accounts side: logins and failed logins, role and permission changes
(whatever made them: ``create_user``, the Django admin, the shell) and every Django admin edit.

Signal receivers (ari_review/receivers.py) call these. Events hold ids, role and permission
names, field names and client addresses: never a password, a typed username that matches no
account (it may be a mistyped password), message text or object descriptions.
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection

from ari_review.audit import audit_event_record
from ari_review.audit_actor import request_actor
from ari_review.models import AuditEvent

FLAGS = ("is_active", "is_staff", "is_superuser")


def _ip(request) -> str:
    if request is None:
        return ""
    from ari_review.throttles import client_ip

    return client_ip(request)


def login_record(*, user, request=None) -> None:
    """A successful sign-in (login page, Django admin, API token). Superuser sign-ins have
    their own event and alert (``ari_review.services.superuser_login_record``)."""
    audit_event_record(actor=user, action="login", obj=user, after={"ip_address": _ip(request)})


def login_failed_record(*, username: str, request=None) -> None:
    """A refused sign-in (wrong password, unknown user, locked out). Names the account only
    when one has that username; the typed text itself is never stored."""
    user = get_user_model().objects.filter(username=username).only("pk").first()
    audit_event_record(
        actor=None,
        action="login.failed",
        object_type="auth.user",
        object_id=user.pk if user is not None else "",
        after={"ip_address": _ip(request), "known_user": user is not None},
    )


def _permission_names(ids) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(pk__in=ids).values_list(
            "content_type__app_label", "codename"
        )
    )


def _audit_table_ready() -> bool:
    """Group permissions also change in ``post_migrate`` (roles_sync), maybe before the audit
    table exists (``migrate auth`` on a new database)."""
    return AuditEvent._meta.db_table in connection.introspection.table_names()


def membership_change_record(*, relation: str, instance, change: str, ids, reverse: bool) -> None:
    """A change of ``User.groups`` (roles), ``User.user_permissions`` or ``Group.permissions``,
    from either side of the relation: one event per user or group whose grants changed.
    ``change``: ``grant`` or ``revoke``."""
    ids = sorted(ids or [])
    if not ids:
        return
    actor = request_actor()
    if relation == "groups":
        # user.groups.add(groups) or group.user_set.add(users)
        pairs = (
            [(instance.pk, ids)] if not reverse else [(user_id, [instance.pk]) for user_id in ids]
        )
        for user_id, group_ids in pairs:
            names = sorted(Group.objects.filter(pk__in=group_ids).values_list("name", flat=True))
            audit_event_record(
                actor=actor,
                action=f"role.{change}",
                object_type="auth.user",
                object_id=user_id,
                after={"groups": names},
            )
    elif relation == "user_permissions":
        pairs = (
            [(instance.pk, ids)] if not reverse else [(user_id, [instance.pk]) for user_id in ids]
        )
        for user_id, permission_ids in pairs:
            audit_event_record(
                actor=actor,
                action=f"permission.{change}",
                object_type="auth.user",
                object_id=user_id,
                after={"permissions": _permission_names(permission_ids)},
            )
    elif relation == "group_permissions":
        if not _audit_table_ready():
            return
        pairs = (
            [(instance, ids)]
            if not reverse
            else [(group, [instance.pk]) for group in Group.objects.filter(pk__in=ids)]
        )
        for group, permission_ids in pairs:
            audit_event_record(
                actor=actor,
                action=f"group_permission.{change}",
                obj=group,
                after={"group": group.name, "permissions": _permission_names(permission_ids)},
            )
    else:  # pragma: no cover - the receivers name one of the three
        raise ValueError(f"unknown relation {relation!r}")


def user_flags_snapshot(*, user) -> dict | None:
    """The stored ``is_active``/``is_staff``/``is_superuser`` of ``user`` before a save."""
    if user.pk is None:
        return None
    return get_user_model().objects.filter(pk=user.pk).values(*FLAGS).first()


def user_flags_change_record(*, user, before: dict | None, created: bool) -> None:
    """An account made staff or superuser, or (de)activated: before and after."""
    after = {flag: getattr(user, flag) for flag in FLAGS}
    if created:
        if not (user.is_staff or user.is_superuser):
            return
        before = None
    elif before is None or before == after:
        return
    audit_event_record(
        actor=request_actor(),
        action="user.create" if created else "user.flags_change",
        obj=user,
        before=before,
        after=after,
    )


def _change_summary(change_message: str) -> list[dict]:
    """Field and model names of a Django admin change message, without the objects' text."""
    try:
        parts = json.loads(change_message) if change_message else []
    except ValueError:
        return []
    summary = []
    for part in parts if isinstance(parts, list) else []:
        for kind, detail in part.items() if isinstance(part, dict) else []:
            if not isinstance(detail, dict):
                continue
            kept = {key: detail[key] for key in ("name", "fields") if key in detail}
            summary.append({kind: kept})
    return summary


_ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}


def admin_log_record(*, entry) -> None:
    """One Django admin addition, change or deletion (a ``LogEntry``): who, which object, which
    fields."""
    content_type = entry.content_type
    audit_event_record(
        actor=entry.user,
        action=_ADMIN_ACTIONS.get(entry.action_flag, "admin.other"),
        object_type=(
            f"{content_type.app_label}.{content_type.model}" if content_type else "unknown"
        )[:60],
        object_id=str(entry.object_id or "")[:64],
        after={"log_entry": entry.pk, "changes": _change_summary(entry.change_message)},
    )


def admin_deletions_record(*, actor, model, object_ids: list) -> None:
    """Objects deleted together with the Django admin's "delete selected" action (Django logs
    them in bulk, without the signal ``admin_log_record`` hangs on)."""
    object_type = model._meta.label_lower
    for object_id in object_ids:
        audit_event_record(
            actor=actor,
            action="admin.delete",
            object_type=object_type,
            object_id=str(object_id)[:64],
            after={"via": "admin:delete_selected"},
        )
