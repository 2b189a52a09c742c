"""Fixtures shared by the whole suite: one user per role, API clients, a real Celery worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient

from ari_review.ttl_cache import ttl_cache_clear
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_ttl_cache():
    """Nothing read through the in-process configuration cache (active model versions, the
    approved index key, fixed replies...) leaks from one test's database into the next."""
    ttl_cache_clear()
    yield
    ttl_cache_clear()


# Code that writes its own SQL runs on PostgreSQL and on SQLite (the quick start's default):
# its tests take ``db_alias`` and mark themselves django_db(databases=BOTH_DATABASES).
BOTH_DATABASES = ["default", "sqlite"]


@pytest.fixture(params=BOTH_DATABASES)
def db_alias(request):
    return request.param


def enduser_in(db_alias: str, username: str):
    """An end user stored in the default database and, with the same id, in ``db_alias``."""
    user = UserFactory(username=username, role="enduser")
    if db_alias != "default":
        user.save(using=db_alias)
    return user


@pytest.fixture
def enduser(db):
    return UserFactory(username="alice", role="enduser")


@pytest.fixture
def clinician(db):
    return UserFactory(username="dr_bo", role="clinician")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root_admin", role="admin")


@pytest.fixture
def role_users(enduser, clinician, admin_user):
    return {"enduser": enduser, "clinician": clinician, "admin": admin_user}


@pytest.fixture
def api_client():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


EAGER_KEYS = ("CELERY_TASK_ALWAYS_EAGER", "task_always_eager")


@contextmanager
def celery_eager(on: bool) -> Iterator[None]:
    """In-process tasks (the broker-less quick start) on or off for a block. Celery reads
    Django's settings under the CELERY_ namespace, and a key set on ``app.conf`` in either
    spelling hides them and the other spelling; so both are set, and the configuration's own
    changes are restored afterwards (a test's setting must not outlive it)."""
    from ari_review.celery import app

    changes = app.conf.changes
    saved = {key: changes[key] for key in EAGER_KEYS if key in changes}
    changes.update(dict.fromkeys(EAGER_KEYS, on))
    try:
        yield
    finally:
        for key in EAGER_KEYS:
            changes.pop(key, None)
        changes.update(saved)


@pytest.fixture
def eager_celery():
    """Tasks queued on commit run in-process (the broker-less quick-start behaviour)."""
    with celery_eager(True):
        yield


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker thread consuming every queue from the test Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from ari_review.celery import app

    with celery_eager(False):
        app.control.purge()
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            queues=["chat", "default", "training"],
            shutdown_timeout=30,
        ) as worker:
            yield worker
