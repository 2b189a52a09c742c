import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ari_review.roles import user_role


@pytest.mark.django_db
def test_create_user_creates_user_with_role_and_password(capsys):
    call_command("create_user", "carol", "--role", "clinician", "--password", "s3cret-pass!")
    out = capsys.readouterr().out
    assert "Created user 'carol' with role clinician" in out
    user = get_user_model().objects.get(username="carol")
    assert user_role(user) == "clinician"
    assert user.check_password("s3cret-pass!")
    assert not user.is_staff


@pytest.mark.django_db
def test_create_user_updates_existing_user_role(capsys):
    call_command("create_user", "dave", "--role", "enduser", "--password", "pw-one-2345-long")
    call_command("create_user", "dave", "--role", "admin")
    out = capsys.readouterr().out
    assert "Updated user 'dave' with role admin" in out
    user = get_user_model().objects.get(username="dave")
    assert user_role(user) == "admin"
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]
    assert user.is_staff
    # The password was not touched by an update without --password.
    assert user.check_password("pw-one-2345-long")


@pytest.mark.django_db
def test_create_user_rejects_unknown_role_with_exit_code_2():
    with pytest.raises(CommandError) as excinfo:
        call_command("create_user", "eve", "--role", "superhero")
    assert excinfo.value.returncode == 2
    assert "unknown role 'superhero'" in str(excinfo.value)
    assert not get_user_model().objects.filter(username="eve").exists()
