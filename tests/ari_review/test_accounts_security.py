"""Accounts and access (issue 15, section 1): login lockout, password policy, expiring and
revocable API tokens, rate limits, least privilege, superuser alerts, Redis down.

Lockouts use the production defaults (``ARI_LOGIN_FAILURE_LIMIT`` 10); the rate-limit tests set
low rates on purpose (the suite's own are raised in tests/settings.py).
"""

from __future__ import annotations

import io
import itertools
import socket
import time
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from ari_review import throttles
from ari_review.api.errors import ApplicationError
from ari_review.management.commands.seed_demo import DEMO_ACCOUNTS
from ari_review.models import AuditEvent
from ari_review.services import api_token_issue, user_upsert
from conversations.services import session_create
from evaluation.models import SeedDialogue
from tests.conftest import client_for
from tests.conversations.conftest import active_models, chat_ready, starter_content  # noqa: F401
from tests.factories import SeedDialogueFactory, UserFactory
from tests.training_jobs.fixtures import trained_models  # noqa: F401

PASSWORD = "pw-for-tests-123"  # noqa: S105 - tests/conftest.py's
LIMIT = 10  # ARI_LOGIN_FAILURE_LIMIT's default
_addresses = (f"10.15.{i // 250}.{i % 250 + 1}" for i in itertools.count())


@pytest.fixture
def ip():
    """A client address of its own, with no rate-limit history left in Redis by earlier runs."""
    address = next(_addresses)
    cache.delete_many([f"throttle_{s}_{address}" for s in ("chat", "login", "export", "import")])
    return address


def forget_throttles(user) -> None:
    cache.delete_many([f"throttle_{s}_{user.pk}" for s in ("chat", "login", "export", "import")])


def login_page(ip: str, username: str, password: str, path: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def token_post(ip: str, username: str, password: str):
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


# --- Login lockout ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_locks_the_account_after_the_failure_limit(enduser, ip):
    for attempt in range(1, LIMIT):
        response = login_page(ip, "alice", "wrong-password-1")
        assert response.status_code == 200, attempt  # the form again, with its error
        assert "match. Please try again" in response.content.decode()
    locked = login_page(ip, "alice", "wrong-password-1")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 30 * 60
    assert "Sign-in temporarily locked" in locked.content.decode()
    assert "alice" not in locked.content.decode()
    # The right password does not get in while locked, from this address or another.
    assert login_page(ip, "alice", PASSWORD).status_code == 429
    assert login_page(next(_addresses), "alice", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_failures_spread_over_addresses_still_lock_the_account(enduser):
    for _ in range(LIMIT):
        login_page(next(_addresses), "alice", "wrong-password-1")
    assert login_page(next(_addresses), "alice", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked_out(enduser, clinician, ip):
    for i in range(LIMIT):
        login_page(ip, f"nobody-{i}", "wrong-password-1")
    # Even a right password is refused from that address; from another it works.
    assert login_page(ip, "alice", PASSWORD).status_code == 429
    assert login_page(next(_addresses), "dr_bo", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_django_admin_login_locks_after_the_failure_limit(admin_user, ip):
    for _ in range(LIMIT - 1):
        response = login_page(ip, "root_admin", "wrong-password-1", path="/admin/login/")
        assert response.status_code == 200
    response = login_page(ip, "root_admin", "wrong-password-1", path="/admin/login/")
    assert response.status_code == 429
    assert "Retry-After" in response


@pytest.mark.django_db
def test_token_endpoint_locks_after_the_failure_limit(clinician, ip):
    for _ in range(LIMIT - 1):
        response = token_post(ip, "dr_bo", "wrong-password-1")
        assert response.status_code == 400
        assert response.json()["detail"] == "Unable to sign in with this username and password."
    response = token_post(ip, "dr_bo", "wrong-password-1")
    assert response.status_code == 429
    assert response["Retry-After"] == str(30 * 60)
    assert "Too many failed sign-in attempts" in response.json()["detail"]
    assert token_post(ip, "dr_bo", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_admin_unlock_action_lifts_the_lockout_and_is_audited(enduser, ip):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = get_user_model().objects.get(username="demo_admin")
    for _ in range(LIMIT):
        login_page(ip, "alice", "wrong-password-1")
    assert login_page(ip, "alice", PASSWORD).status_code == 429

    from axes.models import AccessAttempt

    attempts = list(AccessAttempt.objects.filter(username="alice").values_list("pk", flat=True))
    browser = Client()
    browser.force_login(admin)
    page = browser.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "Unlock the selected" in page.content.decode()
    response = browser.post(
        "/admin/axes/accessattempt/",
        {"action": "unlock", "_selected_action": [str(pk) for pk in attempts]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.actor == admin
    assert event.after["username"] == "alice"
    assert login_page(ip, "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_plain_delete_of_a_lockout_is_not_offered(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/axes/accessattempt/").content.decode()
    assert "delete_selected" not in page


@pytest.mark.django_db
def test_unlock_command_is_audited(enduser, admin_user, ip):
    for _ in range(LIMIT):
        login_page(ip, "alice", "wrong-password-1")
    call_command("unlock_login", "--username", "alice", "--by", "root_admin", stdout=io.StringIO())
    event = AuditEvent.objects.get(action="login.unlock")
    assert (event.actor, event.object_id) == (admin_user, "alice")
    assert login_page(ip, "alice", PASSWORD).status_code == 302
    with pytest.raises(CommandError) as excinfo:
        call_command("unlock_login", "--by", "root_admin")  # no username, no address
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError, match="not an active admin"):
        call_command("unlock_login", "--username", "alice", "--by", "alice")


# --- Password policy ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["password", "short-1", "12345678901234", "erin-the-user"])
def test_create_user_refuses_a_weak_password(weak):
    with pytest.raises(CommandError) as excinfo:
        call_command("create_user", "erin_the_user", "--role", "clinician", "--password", weak)
    assert excinfo.value.returncode == 2
    assert "Password refused" in str(excinfo.value)
    assert not get_user_model().objects.filter(username="erin_the_user").exists()


@pytest.mark.django_db
def test_user_upsert_refuses_a_weak_password_and_keeps_the_old_one(enduser):
    with pytest.raises(ApplicationError, match="too common"):
        user_upsert(username="alice", role="enduser", password="password")
    enduser.refresh_from_db()
    assert enduser.check_password(PASSWORD)


@pytest.mark.django_db
def test_set_password_anywhere_runs_the_validators(enduser):
    enduser.set_password("password")
    with pytest.raises(ValidationError):
        enduser.save()


@pytest.mark.django_db
def test_createsuperuser_noinput_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("createsuperuser", "--noinput", "--username", "glass", "--email", "g@x.org")
    assert not get_user_model().objects.filter(username="glass").exists()


@pytest.mark.django_db
def test_admin_add_user_form_refuses_a_weak_password(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    response = browser.post(
        "/admin/auth/user/add/",
        {
            "username": "frank",
            "usable_password": "true",
            "password1": "password",
            "password2": "password",
        },
    )
    assert response.status_code == 200
    assert "This password is too common" in response.content.decode()
    assert not get_user_model().objects.filter(username="frank").exists()


@pytest.mark.django_db
def test_demo_accounts_pass_the_policy():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for username, _, password in DEMO_ACCOUNTS:
        assert get_user_model().objects.get(username=username).check_password(password)


# --- API tokens ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_from_the_endpoint_authenticates_and_expires(clinician, ip):
    response = token_post(ip, "dr_bo", PASSWORD)
    assert response.status_code == 201
    body = response.json()
    expiry = datetime.fromisoformat(body["expiry"].replace("Z", "+00:00"))
    assert timedelta(hours=11) < expiry - timezone.now() <= timedelta(hours=12)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/v1/alerts/").status_code == 200
    # Only a hash is stored.
    assert not clinician.auth_token_set.filter(digest=body["token"]).exists()

    clinician.auth_token_set.update(expiry=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/alerts/").status_code in (401, 403)


@pytest.mark.django_db
def test_logout_revokes_the_token(clinician):
    token = api_token_issue(user=clinician)
    other = api_token_issue(user=clinician)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get("/api/v1/alerts/").status_code in (401, 403)
    # The user's other token is still good until logout-all.
    api.credentials(HTTP_AUTHORIZATION=f"Token {other}")
    assert api.get("/api/v1/alerts/").status_code == 200
    assert api.post("/api/v1/auth/logout-all/").status_code == 204
    assert api.get("/api/v1/alerts/").status_code in (401, 403)
    assert not clinician.auth_token_set.exists()


@pytest.mark.django_db
def test_old_drf_token_header_with_unknown_key_is_refused(clinician):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert api.get("/api/v1/alerts/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_user_keeps_at_most_the_token_limit(clinician):
    first = api_token_issue(user=clinician)
    for _ in range(10):
        api_token_issue(user=clinician)
    assert clinician.auth_token_set.count() == 10
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/v1/alerts/").status_code in (401, 403)  # the oldest was revoked


# --- Rate limits --------------------------------------------------------------------------------


def assert_rate_limited(response, message: str) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert message in response.json()["detail"]
    assert "Please wait" in response.json()["detail"]


@pytest.mark.django_db
def test_chat_send_is_rate_limited_per_user(settings, enduser, other_user, chat_ready):  # noqa: F811
    settings.ARI_THROTTLE_RATES = {**settings.ARI_THROTTLE_RATES, "chat": "3/min"}
    forget_throttles(enduser)
    forget_throttles(other_user)
    session = session_create(user=enduser, session_type="check_in")
    api = client_for(enduser)
    url = f"/api/v1/sessions/{session.public_id}/messages/"
    for i in range(3):
        response = api.post(url, {"text": f"Work has been a lot lately {i}."}, format="json")
        assert response.status_code == 201
    assert_rate_limited(
        api.post(url, {"text": "One more."}, format="json"), "faster than Ari can answer"
    )
    # The no-JavaScript page shares the budget: 429 with Retry-After there too.
    browser = Client()
    browser.force_login(enduser)
    page = browser.post(f"/chat/{session.public_id}/send/", {"text": "And again."})
    assert page.status_code == 429
    assert int(page["Retry-After"]) >= 1
    assert "faster than Ari can answer" in page.content.decode()
    # Another user is not affected.
    other = session_create(user=other_user, session_type="check_in")
    response = client_for(other_user).post(
        f"/api/v1/sessions/{other.public_id}/messages/", {"text": "Hello."}, format="json"
    )
    assert response.status_code == 201


@pytest.fixture
def other_user(db):
    return UserFactory(username="bea", role="enduser")


@pytest.mark.django_db
def test_token_endpoint_is_rate_limited_per_address(settings, clinician, ip):
    settings.ARI_THROTTLE_RATES = {**settings.ARI_THROTTLE_RATES, "login": "3/min"}
    for _ in range(3):
        assert token_post(ip, "dr_bo", PASSWORD).status_code == 201
    assert_rate_limited(token_post(ip, "dr_bo", PASSWORD), "Too many sign-in attempts")


@pytest.mark.django_db
def test_imports_are_rate_limited(settings, clinician):
    settings.ARI_THROTTLE_RATES = {**settings.ARI_THROTTLE_RATES, "import": "2/min"}
    forget_throttles(clinician)
    api = client_for(clinician)
    for _ in range(2):
        assert api.post("/api/v1/dialogues/import/", {}).status_code == 400  # no file
    assert_rate_limited(api.post("/api/v1/dialogues/import/", {}), "Too many imports")


@pytest.mark.django_db
def test_admin_exports_are_rate_limited(settings):
    settings.ARI_THROTTLE_RATES = {**settings.ARI_THROTTLE_RATES, "export": "2/min"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = get_user_model().objects.get(username="demo_admin")
    forget_throttles(admin)
    item = SeedDialogueFactory(state=SeedDialogue.State.APPROVED)
    browser = Client()
    browser.force_login(admin)
    form = {"action": "export_seed_json", "_selected_action": [str(item.pk)]}
    for _ in range(2):
        response = browser.post("/admin/evaluation/seeddialogue/", form)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
    response = browser.post("/admin/evaluation/seeddialogue/", form)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many exports" in response.content.decode()


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_chat_turn_works_while_the_cache_is_down(settings, enduser, chat_ready, caplog):  # noqa: F811
    throttles._fail_open["logged_at"] = float("-inf")  # log this test's first unchecked request
    settings.ARI_THROTTLE_RATES = {**settings.ARI_THROTTLE_RATES, "chat": "1/min"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_dead_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    session = session_create(user=enduser, session_type="check_in")
    api = client_for(enduser)
    url = f"/api/v1/sessions/{session.public_id}/messages/"
    # Over the 1/min rate too: with the cache down the limit is not checked, the turn runs.
    for text in ("Work has been a lot lately.", "I want to end my life tonight"):
        response = api.post(url, {"text": text}, format="json")
        assert response.status_code == 201, response.content
    assert response.json()["reply"]["emergency"] is True
    # Logged (once every few seconds, not once per request of an outage).
    assert "rate limit not checked: cache unavailable scope=chat" in caplog.text


# --- Least privilege ----------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/",
    "/admin/training_jobs/modelversion/",
    "/admin/conversations/crisisresource/",
    "/admin/conversations/crisisresource/add/",
    "/admin/conversations/emergencyreply/",
    "/admin/conversations/personaprompt/",
    "/admin/evaluation/seeddialogue/",
    "/admin/ari_review/auditevent/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/knox/authtoken/",
    "/admin/axes/accessattempt/",
]


@pytest.mark.django_db
def test_demo_admin_is_staff_not_superuser_and_reaches_its_admin_pages():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = get_user_model().objects.get(username="demo_admin")
    assert admin.is_staff and not admin.is_superuser
    browser = Client()
    assert (
        browser.post(
            "/accounts/login/", {"username": "demo_admin", "password": DEMO_ACCOUNTS[2][2]}
        ).status_code
        == 302
    )
    for path in ADMIN_PAGES:
        response = browser.get(path)
        assert response.status_code == 200, path
    assert browser.get("/models/").status_code == 200
    assert browser.get("/audit/").status_code == 200
    assert browser.get("/signals/").status_code == 200


@pytest.mark.django_db
def test_admin_role_cannot_grant_itself_more(admin_user):
    assert not admin_user.is_superuser
    assert not admin_user.has_perm("auth.change_group")
    assert not admin_user.has_perm("auth.change_permission")
    assert not admin_user.has_perm("ari_review.delete_auditevent")
    assert not admin_user.has_perm("conversations.delete_message")
    assert not admin_user.has_perm("knox.add_authtoken")
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(f"/admin/auth/user/{admin_user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page  # shown read-only
    assert 'name="user_permissions"' not in page
    browser.post(
        f"/admin/auth/user/{admin_user.pk}/change/",
        {"username": "root_admin", "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    # Group permissions are view-only.
    assert browser.post("/admin/auth/group/add/", {"name": "x"}).status_code == 403


@pytest.mark.django_db
def test_admin_role_cannot_touch_a_superuser(admin_user):
    root = get_user_model().objects.create_superuser("glass", "g@x.org", "break-glass-9f3kq")
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get(f"/admin/auth/user/{root.pk}/change/").status_code == 200  # view only
    response = browser.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "another-long-pass-1", "password2": "another-long-pass-1"},
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("break-glass-9f3kq")


@pytest.mark.django_db
def test_create_user_takes_superuser_away(admin_user):
    User = get_user_model()
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    user_upsert(username="root_admin", role="admin")
    admin_user.refresh_from_db()
    assert admin_user.is_staff and not admin_user.is_superuser


# --- Superuser login alert ----------------------------------------------------------------------


@pytest.mark.celery_worker
def test_superuser_login_is_audited_and_emailed_to_admins(celery_worker):
    admin = UserFactory(username="ops_admin", role="admin")
    get_user_model().objects.filter(pk=admin.pk).update(email="ops@example.org")
    get_user_model().objects.create_superuser("rootkey", "", "break-glass-9f3kq")
    response = login_page(next(_addresses), "rootkey", "break-glass-9f3kq")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="login.superuser")
    assert event.actor_name == "rootkey"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not mail.outbox:
        time.sleep(0.1)
    assert [m.to for m in mail.outbox] == [["ops@example.org"]]
    assert "rootkey" not in mail.outbox[0].body  # ids only


@pytest.mark.django_db
def test_an_ordinary_login_raises_no_alert(enduser, ip):
    assert login_page(ip, "alice", PASSWORD).status_code == 302
    assert not AuditEvent.objects.filter(action="login.superuser").exists()
