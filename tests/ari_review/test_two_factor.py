"""The optional TOTP second factor (issue 15, part 1): set up from the web, asked for after the
password on every sign-in of whoever set it up, required of clinicians and admins when
ARI_2FA_REQUIRED says so; audited."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from ari_review.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"  # tests/conftest.py's


@pytest.fixture(autouse=True)
def _no_throttle_delay(settings):
    """django-otp waits 2^(failures-1) s after a wrong code; the tests try the right one at once
    (test_a_right_code_right_after_a_wrong_one_waits_for_the_throttle keeps the delay)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(device: TOTPDevice) -> str:
    """A code the device accepts now: each is accepted once, so after one was used this gives the
    next step's (the device takes one step ahead and follows the drift)."""
    device.refresh_from_db()
    now_t = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    target = max(now_t, device.last_t + 1)
    return f"{hotp(device.bin_key, target, digits=device.digits):0{device.digits}d}"


def signed_in(username: str, ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def set_up(client: Client, user) -> TOTPDevice:
    page = client.get("/accounts/2fa/setup/")
    assert page.status_code == 200 and b'data-testid="totp-key"' in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/2fa/setup/", {"token": "000000"}).status_code == 400
    response = client.post("/accounts/2fa/setup/", {"token": code(device), "next": "/review/"})
    assert response.status_code == 302 and response["Location"] == "/review/"
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_optional_by_default_and_asked_for_at_every_sign_in_once_set_up(clinician):
    client = signed_in("dr_bo", "10.77.0.1")
    assert client.get("/review/").status_code == 200  # no device: no second step
    device = set_up(client, clinician)
    assert client.get("/review/").status_code == 200  # the session that set it up is verified

    later = signed_in("dr_bo", "10.77.0.2")
    response = later.get("/review/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/?next=/review/"
    assert later.get("/admin/").status_code == 302  # the Django admin too
    assert later.get("/api/v1/queues/review/items/").status_code == 403
    assert later.get("/accounts/2fa/setup/").content.count(b"totp-key") == 0  # no way around
    wrong = later.post("/accounts/2fa/", {"token": "123456", "next": "/review/"})
    assert wrong.status_code == 400
    right = later.post("/accounts/2fa/", {"token": code(device), "next": "/review/"})
    assert right.status_code == 302 and right["Location"] == "/review/"
    assert later.get("/review/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(object_id=str(clinician.pk), action__contains="otp")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "login.otp_failed",  # the wrong code while setting up
        "otp.device_confirm",
        "login.otp_failed",
        "login.otp",
    ]


@override_settings(ARI_2FA_REQUIRED=True)
def test_required_setting_makes_clinicians_and_admins_set_it_up_first(clinician, enduser):
    client = signed_in("dr_bo", "10.77.0.3")
    response = client.get("/review/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/setup/?next=/review/"
    set_up(client, clinician)
    assert client.get("/review/").status_code == 200
    end_user = signed_in("alice", "10.77.0.4")
    assert end_user.get("/chat/").status_code == 200  # end users are never asked


@override_settings(ARI_2FA_REQUIRED=True)
def test_required_setting_also_catches_sessions_signed_in_before_it(client, admin_user):
    client.force_login(admin_user)
    assert "ari_two_factor" not in client.session  # force_login: as if signed in before
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")


def test_api_tokens_need_the_code_once_a_device_is_set_up(clinician):
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    api = APIClient(REMOTE_ADDR="10.77.0.5")
    body = {"username": "dr_bo", "password": PASSWORD}
    missing = api.post("/api/v1/auth/token/", body, format="json")
    assert missing.status_code == 400 and "otp_token" in missing.json()["detail"]
    wrong = api.post("/api/v1/auth/token/", {**body, "otp_token": "000000"}, format="json")
    assert wrong.status_code == 400
    right = api.post("/api/v1/auth/token/", {**body, "otp_token": code(device)}, format="json")
    assert right.status_code == 201
    assert AuditEvent.objects.filter(action="login.otp", object_id=str(clinician.pk)).exists()


@override_settings(ARI_2FA_REQUIRED=True)
def test_api_tokens_are_refused_until_two_factor_is_set_up_when_required():
    UserFactory(username="dr_api", role="clinician")
    api = APIClient(REMOTE_ADDR="10.77.0.6")
    response = api.post(
        "/api/v1/auth/token/", {"username": "dr_api", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400 and "set it up on the web" in response.json()["detail"]


def test_a_right_code_right_after_a_wrong_one_waits_for_the_throttle(settings, clinician):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    client = signed_in("dr_bo", "10.77.0.7")
    assert client.post("/accounts/2fa/", {"token": "000000"}).status_code == 400
    assert client.post("/accounts/2fa/", {"token": code(device)}).status_code == 400
    assert client.get("/review/").status_code == 302


@override_settings(ARI_2FA_REQUIRED=True)
def test_superusers_set_it_up_too():
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("rootkey", "", "break-glass-9f3kq-x")
    client = Client(REMOTE_ADDR="10.77.0.8")
    client.post("/admin/login/", {"username": "rootkey", "password": "break-glass-9f3kq-x"})
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")
    set_up(client, root)
    assert client.get("/admin/").status_code == 200
