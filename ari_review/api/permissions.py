from rest_framework.permissions import BasePermission

from ari_review.roles import ADMIN, CLINICIAN, ENDUSER, ROLES, user_has_role


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, *self.roles)


class IsEndUser(_HasRole):
    roles = (ENDUSER,)


class IsClinician(_HasRole):
    """Clinicians, and admins (who may do everything a clinician does)."""

    roles = (CLINICIAN, ADMIN)


class IsAdmin(_HasRole):
    roles = (ADMIN,)


class HasAnyRole(_HasRole):
    """Any signed-in user who holds one of the roles (e.g. the crisis-resource catalogue)."""

    roles = ROLES
