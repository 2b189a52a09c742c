"""An optional TOTP second factor (django-otp) for clinicians, admins and superusers.

Whoever set one up is asked for a code after the password, on every sign-in (login page, Django
admin, API token). With ``ARI_2FA_REQUIRED=1`` every clinician, admin and superuser must set one
up before doing anything else. Until the code is given, pages redirect to the code page and
session-authenticated API calls get 403. Setting up, codes given and codes refused are audited.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.roles import ADMIN, CLINICIAN, user_has_role

SESSION_KEY = "ari_two_factor"  # "verify" or "setup" while the second factor is outstanding
VERIFY, SETUP = "verify", "setup"
# Paths open while the second factor is outstanding (besides the two-factor pages).
_OPEN_PATHS = ("/accounts/logout/", "/admin/logout/", "/static/", "/healthz")


def two_factor_applies(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user_has_role(user, CLINICIAN, ADMIN))
    )


def totp_device_get(*, user, confirmed: bool = True):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def two_factor_state(*, user) -> str | None:
    """What ``user`` still owes after the password: ``verify`` (a code from the device they set
    up), ``setup`` (none yet, and ARI_2FA_REQUIRED says they need one) or None."""
    if not two_factor_applies(user):
        return None
    if totp_device_get(user=user) is not None:
        return VERIFY
    return SETUP if settings.ARI_2FA_REQUIRED else None


def two_factor_login_note(*, request, user) -> None:
    """On sign-in: remember in the session what is outstanding (no query on later requests)."""
    if request is None or not hasattr(request, "session"):
        return
    if getattr(getattr(request, "user", None), "pk", None) != user.pk:
        return  # an API token request: no session sign-in (totp_api_check asks for the code)
    state = two_factor_state(user=user)
    if state is not None:
        request.session[SESSION_KEY] = state


def _audit(*, user, action: str, device, request) -> None:
    from ari_review.throttles import client_ip

    audit_event_record(
        actor=user,
        action=action,
        obj=user,
        after={
            "device": getattr(device, "pk", None),
            "ip_address": client_ip(request) if request else "",
        },
    )


def _code_check(*, user, device, token: str, request) -> bool:
    from django_otp import verify_token

    token = "".join(str(token or "").split())
    ok = bool(token.isdigit() and verify_token(user, device.persistent_id, token))
    if not ok:
        _audit(user=user, action="login.otp_failed", device=device, request=request)
    return ok


def totp_setup_start(*, user):
    """The unconfirmed TOTP device of ``user`` (made if missing) whose key they enter in their
    authenticator app. Refused once a device is set up: a lost one is removed by a superuser."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not two_factor_applies(user):
        raise ApplicationError("Two-factor sign-in is for clinicians and admins.")
    if totp_device_get(user=user) is not None:
        raise ApplicationError("A two-factor device is already set up for this account.")
    device = totp_device_get(user=user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_setup_confirm(*, request, user, token: str):
    """Confirm the new device with a code from it; the session counts as verified."""
    import django_otp

    device = totp_setup_start(user=user)
    if not _code_check(user=user, device=device, token=token, request=request):
        raise ApplicationError("That code did not match. Check the app's clock and try again.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    django_otp.login(request, device)
    request.session.pop(SESSION_KEY, None)
    _audit(user=user, action="otp.device_confirm", device=device, request=request)
    return device


def totp_verify(*, request, user, token: str):
    """The second step of a sign-in: a code from the user's device."""
    import django_otp

    device = totp_device_get(user=user)
    if device is None:
        raise ApplicationError("No two-factor device is set up for this account.")
    if not _code_check(user=user, device=device, token=token, request=request):
        raise ApplicationError("That code did not match. Try the next one your app shows.")
    django_otp.login(request, device)
    request.session.pop(SESSION_KEY, None)
    _audit(user=user, action="login.otp", device=device, request=request)
    return device


def totp_api_check(*, request, user, token: str | None) -> None:
    """An API token request: clinicians and admins with a device (or all of them, when
    ARI_2FA_REQUIRED) also send ``otp_token``."""
    state = two_factor_state(user=user)
    if state == SETUP:
        raise ApplicationError(
            "Two-factor sign-in is required: set it up on the web (/accounts/2fa/setup/) first."
        )
    if state == VERIFY:
        device = totp_device_get(user=user)
        if not token:
            raise ApplicationError("Send the code from your authenticator app as otp_token.")
        if not _code_check(user=user, device=device, token=token, request=request):
            raise ApplicationError("That two-factor code did not match.")
        _audit(user=user, action="login.otp", device=device, request=request)


class TwoFactorMiddleware:
    """Until the second factor is given, pages redirect to it and API calls get 403. After
    AuthenticationMiddleware and django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = self._outstanding(request)
        if state is not None:
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Two-factor verification required: sign in again on the web."},
                    status=403,
                )
            target = reverse("two-factor-verify" if state == VERIFY else "two-factor-setup")
            return redirect(f"{target}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    @staticmethod
    def _outstanding(request) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        path = request.path
        if path.startswith("/accounts/2fa/") or path.startswith(_OPEN_PATHS):
            return None
        if hasattr(user, "is_verified") and user.is_verified():
            return None
        state = request.session.get(SESSION_KEY)
        if state is None and settings.ARI_2FA_REQUIRED:
            # Sessions from before the setting was turned on.
            state = two_factor_state(user=user)
        return state
