"""Django admin for accounts: users without a way up to superuser, and audited login unlocks.

Admins are staff with their role group's permissions (ari_review/roles.py), not superusers, so
the user admin must not let them grant what they do not hold: ``is_superuser`` and per-user
permissions are read-only for them, and superuser accounts are view-only.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from ari_review.account_audit import admin_deletions_record
from ari_review.services import login_lockout_reset

User = get_user_model()

admin.site.unregister(User)
admin.site.unregister(AccessAttempt)


@admin.action(
    permissions=["delete"],
    # Set on Django's action by its @action decorator; not in django-stubs.
    description=django_delete_selected.short_description,  # type: ignore[attr-defined]
)
def delete_selected(modeladmin, request, queryset):
    """Django's "delete selected" action, audited: Django logs a deletion of one object with a
    LogEntry save (audited by ari_review.receivers) but several at once in bulk, without it."""
    object_ids = list(queryset.values_list("pk", flat=True)) if request.POST.get("post") else []
    response = django_delete_selected(modeladmin, request, queryset)
    if response is None and len(object_ids) > 1:  # deleted (a page: confirmation or refusal)
        admin_deletions_record(actor=request.user, model=queryset.model, object_ids=object_ids)
    return response


admin.site.add_action(delete_selected)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions", "last_login", "date_joined"]
        return fields

    def has_change_permission(self, request, obj=None):
        # Also guards the password-change page: a superuser's password is a way up too.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Failed logins; locked-out ones are lifted with the audited unlock action only."""

    actions = ["unlock"]

    def has_delete_permission(self, request, obj=None):
        return False  # a plain delete would unlock without an audit event

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("axes.delete_accessattempt")

    @admin.action(
        description="Unlock the selected usernames and addresses (audited)", permissions=["unlock"]
    )
    def unlock(self, request, queryset):
        removed = 0
        pairs = set(queryset.values_list("username", "ip_address"))
        for username, ip_address in sorted(pairs, key=lambda p: (p[0] or "", p[1] or "")):
            removed += login_lockout_reset(
                actor=request.user, username=username or "", ip_address=ip_address or ""
            )
        self.message_user(
            request,
            f"Unlocked {len(pairs)} username/address pair(s); {removed} record(s) removed.",
            messages.SUCCESS,
        )
