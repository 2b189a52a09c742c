"""Page (non-API) access by role: anonymous users are sent to login, wrong roles get 403."""

from django.contrib.auth.mixins import AccessMixin

from ari_review.roles import ADMIN, CLINICIAN, ENDUSER, user_has_role


class RoleRequiredMixin(AccessMixin):
    roles: tuple[str, ...] = ()
    raise_exception = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_has_role(request.user, *self.roles):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # View's, next in the MRO


class EndUserRequired(RoleRequiredMixin):
    roles = (ENDUSER,)


class ClinicianRequired(RoleRequiredMixin):
    roles = (CLINICIAN, ADMIN)


class AdminRequired(RoleRequiredMixin):
    roles = (ADMIN,)
