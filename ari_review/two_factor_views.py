"""The two-factor pages: the code asked for after the password, and setting a device up."""

from __future__ import annotations

from urllib.parse import quote

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import RoleRequiredMixin
from ari_review.roles import ADMIN, CLINICIAN
from ari_review.two_factor import (
    totp_device_get,
    totp_setup_confirm,
    totp_setup_start,
    totp_verify,
    two_factor_applies,
)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _key_groups(device) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


class TwoFactorRequired(RoleRequiredMixin):
    """Clinicians and admins, and superusers (break-glass accounts have no role group)."""

    roles = (CLINICIAN, ADMIN)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_superuser:
            return super(RoleRequiredMixin, self).dispatch(request, *args, **kwargs)  # type: ignore[misc]  # View's, later in the MRO
        return super().dispatch(request, *args, **kwargs)


class TwoFactorVerifyPage(TwoFactorRequired, View):
    def get(self, request):
        if totp_device_get(user=request.user) is None:
            return redirect(f"{reverse('two-factor-setup')}?next={quote(_next(request))}")
        return render(request, "registration/two_factor_verify.html", {"next": _next(request)})

    def post(self, request):
        try:
            totp_verify(request=request, user=request.user, token=request.POST.get("token", ""))
        except ApplicationError as exc:
            context = {"next": _next(request), "error": exc.message}
            return render(request, "registration/two_factor_verify.html", context, status=400)
        return redirect(_next(request))


class TwoFactorSetupPage(TwoFactorRequired, View):
    template = "registration/two_factor_setup.html"

    def _context(self, request, **extra) -> dict:
        context = {"next": _next(request), "applies": two_factor_applies(request.user), **extra}
        if totp_device_get(user=request.user) is not None:
            context["already"] = True
        elif context["applies"]:
            device = totp_setup_start(user=request.user)
            context.update(key=_key_groups(device), config_url=device.config_url)
        return context

    def get(self, request):
        return render(request, self.template, self._context(request))

    def post(self, request):
        try:
            totp_setup_confirm(
                request=request, user=request.user, token=request.POST.get("token", "")
            )
        except ApplicationError as exc:
            return render(
                request, self.template, self._context(request, error=exc.message), status=400
            )
        return redirect(_next(request))
