"""Every page and API endpoint is permission-checked: anonymous is refused, wrong roles get 403.

The URL map is walked, so endpoints added later are covered without touching this file.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from ari_review.api.base import BaseApi
from ari_review.mixins import RoleRequiredMixin
from ari_review.roles import ROLES
from tests.conftest import client_for

PUBLIC_PAGES = {"home", "login", "logout", "healthz"}
AUTH_ONLY = {"api-schema", "api-docs"}
# Sign-in for an API token (tests/ari_review/test_accounts_security.py).
PUBLIC_APIS = {"api-token-create"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _fill(route: str) -> str:
    """Turn a route pattern into a concrete path with ids that do not exist."""
    route = re.sub(r"<uuid:\w+>", str(uuid.UUID(int=1)), route)
    route = re.sub(r"<(int:)?\w+>", "999999", route)
    route = re.sub(r"<(str|slug):\w+>", "missing", route)
    return "/" + route.lstrip("^").rstrip("$")


def _view_class(pattern: URLPattern):
    callback = pattern.callback
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def _allowed_roles(view_class) -> set[str]:
    if issubclass(view_class, RoleRequiredMixin):
        return set(view_class.roles)
    roles: set[str] = set()
    for permission in view_class.permission_classes:
        roles |= set(getattr(permission, "roles", ()))
    return roles


ROUTES = [(route, p) for route, p in _walk(get_resolver().url_patterns)]
API_ROUTES = [(r, p) for r, p in ROUTES if r.startswith("api/v1/") and p.name not in PUBLIC_APIS]
PAGE_ROUTES = [
    (r, p)
    for r, p in ROUTES
    if not r.startswith("api/") and p.name not in PUBLIC_PAGES and not r.startswith("static")
]


def test_url_map_has_api_endpoints_and_pages():
    assert API_ROUTES, "no API endpoint found under /api/v1/"
    assert PAGE_ROUTES, "no role page found"


@pytest.mark.parametrize(("route", "pattern"), API_ROUTES, ids=[r for r, _ in API_ROUTES])
def test_every_api_view_uses_a_role_base_class(route, pattern):
    view_class = _view_class(pattern)
    assert view_class is not None and issubclass(view_class, BaseApi), route
    assert _allowed_roles(view_class), f"{route} declares no role"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "pattern"), API_ROUTES, ids=[r for r, _ in API_ROUTES])
def test_api_refuses_anonymous_and_wrong_roles(route, pattern, role_users):
    path = _fill(route)
    allowed = _allowed_roles(_view_class(pattern))
    for method in ("get", "post"):
        response = getattr(APIClient(), method)(path, {}, format="json")
        assert response.status_code in (401, 403, 405), (method, path, response.status_code)
    for role in set(ROLES) - allowed:
        client = client_for(role_users[role])
        for method in ("get", "post"):
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code in (403, 405), (role, method, path, response.status_code)


@pytest.mark.parametrize(("route", "pattern"), PAGE_ROUTES, ids=[r for r, _ in PAGE_ROUTES])
def test_every_page_declares_its_roles(route, pattern):
    view_class = _view_class(pattern)
    assert view_class is not None and issubclass(view_class, RoleRequiredMixin), route


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "pattern"), PAGE_ROUTES, ids=[r for r, _ in PAGE_ROUTES])
def test_pages_send_anonymous_to_login_and_refuse_wrong_roles(route, pattern, client, role_users):
    path = _fill(route)
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
    for role in set(ROLES) - _allowed_roles(_view_class(pattern)):
        client.force_login(role_users[role])
        assert client.get(path).status_code == 403, (role, path)
        assert client.post(path, {}).status_code in (403, 405), (role, path)
        client.logout()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(AUTH_ONLY))
def test_schema_and_docs_need_login(name, role_users):
    from django.urls import reverse

    path = reverse(name)
    assert APIClient().get(path).status_code in (401, 403)
    response = client_for(role_users["clinician"]).get(path)
    assert response.status_code == 200


@pytest.mark.django_db
def test_schema_is_openapi_3_json(role_users):
    response = client_for(role_users["admin"]).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert any(path.startswith("/api/v1/") for path in schema["paths"])


@pytest.mark.django_db
def test_token_auth_works_for_api(role_users):
    from ari_review.services import api_token_issue

    token = api_token_issue(user=role_users["clinician"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
