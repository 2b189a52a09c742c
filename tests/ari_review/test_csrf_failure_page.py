"""A form sent with a missing or stale CSRF token gets a plain-words page with the way back,
never Django's reason text (issue #18: no raw authentication or CSRF errors)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("signed_in", [True, False])
def test_a_stale_form_gets_a_plain_words_page(signed_in):
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(UserFactory(username="casey", role="enduser"))
    response = client.post("/chat/start/", {"session_type": "check_in"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please try that again" in page
    assert "kept in this browser" in page
    for raw in ("CSRF", "csrf", "Forbidden", "token", "Referer"):
        assert raw not in page.replace('name="csrfmiddlewaretoken"', ""), raw
    assert ("Sign in again" in page) is not signed_in
