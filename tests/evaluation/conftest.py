import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def clinician2(db):
    return UserFactory(role="clinician", username="dr_two")


@pytest.fixture
def clinician3(db):
    return UserFactory(role="clinician", username="dr_three")


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (masks of imported texts, TTL caches)."""
    from django.core.cache import cache

    cache.clear()
    yield
