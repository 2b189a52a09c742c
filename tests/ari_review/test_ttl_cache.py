"""The in-process configuration cache: one load per time-to-live, off at 0, and a change made
in this process is seen at once (and again after its transaction commits)."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from ari_review.ttl_cache import ttl_cache_invalidate, ttl_cached


class Loader:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


def test_a_value_is_loaded_once_per_time_to_live(settings):
    settings.ARI_CONFIG_CACHE_SECONDS = 0.2
    load = Loader()
    assert [ttl_cached("k", load), ttl_cached("k", load)] == [1, 1]
    time.sleep(0.25)
    assert ttl_cached("k", load) == 2


def test_zero_turns_the_cache_off(settings):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    load = Loader()
    assert [ttl_cached("k", load), ttl_cached("k", load)] == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_invalidate_forgets_now_and_again_at_commit(settings):
    settings.ARI_CONFIG_CACHE_SECONDS = 60
    load = Loader()
    ttl_cached("k", load)
    with transaction.atomic():
        ttl_cache_invalidate("k")
        assert ttl_cached("k", load) == 2  # read inside the transaction: the old state
        assert ttl_cached("k", load) == 2
    assert ttl_cached("k", load) == 3  # forgotten again when the change committed
