"""Roles are Django groups: ``enduser``, ``clinician``, ``admin``.

Each group carries model permissions (so Django admin and ``user.has_perm`` agree with the role),
and the API/page base classes check membership through ``user_has_role``. No role is a
superuser: admins get the permissions below (releases, chat configuration and catalogue, risk
signals, users, tokens, login lockouts); superuser is for break-glass accounts only, and each of
their logins is audited and e-mailed to the admins (ari_review/receivers.py).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

ENDUSER = "enduser"
CLINICIAN = "clinician"
ADMIN = "admin"
ROLES = (ENDUSER, CLINICIAN, ADMIN)

# app_label -> permission codename prefixes granted to each role.
_ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    ENDUSER: {},
    CLINICIAN: {
        "ari_review": ("view_auditevent",),
        "conversations": ("view",),
        "evaluation": ("view", "add", "change"),
    },
    ADMIN: {
        "ari_review": ("view_auditevent",),
        "conversations": ("view", "add", "change", "delete"),
        "evaluation": ("view", "add", "change", "delete"),
        "training_jobs": ("view", "add", "change", "delete"),
        # Users and their role (groups), never the groups' permissions.
        "auth": ("view", "add_user", "change_user"),
        # API tokens: see and revoke (issuing one for somebody else would be impersonation).
        "knox": ("view", "delete"),
        # Login lockouts: see them; "delete" is the audited unlock action (ari_review/admin.py).
        "axes": ("view", "delete_accessattempt"),
    },
}
# Permissions no role gets, whatever the prefixes above say: the audit trail is append-only,
# and transcripts are never deleted by hand.
_NEVER = {
    "ari_review": ("add_auditevent", "change_auditevent", "delete_auditevent"),
    "conversations": ("delete_chatsession", "delete_message", "delete_escalation"),
}


def user_role(user) -> str | None:
    """The user's highest role (admin > clinician > enduser), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    names = _group_names(user)
    for role in (ADMIN, CLINICIAN, ENDUSER):
        if role in names:
            return role
    return None


def user_has_role(user, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(_group_names(user) & set(roles))


def _group_names(user) -> set[str]:
    cached = getattr(user, "_ari_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._ari_role_names = cached
    return cached


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the role groups and (re)assign their permissions. Safe to run any number of times."""
    groups = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = Permission.objects.none()
        for app_label, prefixes in _ROLE_PERMISSIONS[role].items():
            for prefix in prefixes:
                # "view" is every view_* permission of the app; "add_user" exactly that one.
                codename = {"codename": prefix} if "_" in prefix else {}
                wanted = wanted | Permission.objects.filter(
                    content_type__app_label=app_label,
                    **(codename or {"codename__startswith": f"{prefix}_"}),
                )
        for app_label, codenames in _NEVER.items():
            wanted = wanted.exclude(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.set(wanted.distinct())
        groups[role] = group
    return groups
