import pytest
from django.core.management import call_command

from ari_review.management.commands.seed_demo import DEMO_ACCOUNTS
from ari_review.roles import ADMIN, CLINICIAN, ENDUSER

NAV_BY_ROLE = {
    ENDUSER: {"Chat"},
    CLINICIAN: {"Review queue", "Safety labels"},
    ADMIN: {"Models", "Django admin"},
}
NOT_FOR = {
    ENDUSER: {"Review queue", "Models", "Django admin", "Audit"},
    CLINICIAN: {"Chat", "Models", "Django admin", "Audit"},
    ADMIN: {"Chat"},
}


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "role", "password"), DEMO_ACCOUNTS)
def test_demo_account_logs_in_and_sees_only_its_role_navigation(client, username, role, password):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    nav = page.split('data-testid="nav"', 1)[1].split("</ul>", 1)[0]
    for label in NAV_BY_ROLE[role]:
        assert f">{label}<" in nav, (role, label)
    for label in NOT_FOR[role]:
        assert f">{label}<" not in nav, (role, label)


@pytest.mark.django_db
def test_wrong_password_shows_error_and_stays_logged_out(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client.post("/accounts/login/", {"username": "demo_user", "password": "nope"})
    assert response.status_code == 200
    assert "match. Please try again" in response.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_ends_the_session(client, enduser):
    client.force_login(enduser)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
