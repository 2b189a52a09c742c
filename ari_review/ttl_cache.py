"""An in-process cache with a time-to-live (cachetools' ``TTLCache``), for configuration read on
every chat turn.

Admin-edited chat configuration (fixed replies, persona, catalogue), the active model version
of each classifier kind and the approved-content index key are read through :func:`ttl_cached`
and kept for ``ARI_CONFIG_CACHE_SECONDS`` (0 turns the cache off), so a change made in another
process takes effect within seconds. A service that makes such a change calls
:func:`ttl_cache_invalidate` so that it is seen at once in its own process.

In-process on purpose, not Django's cache framework: these are read on every chat turn, where a
round trip to Redis (and pickling model rows) would cost more than the read it saves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from cachetools import TTLCache
from django.conf import settings
from django.db import transaction

T = TypeVar("T")

APPROVED_INDEX_KEY = "approved_index_key"
MAX_KEYS = 256  # a handful of keys in practice: one per kind of configuration

_cache: TTLCache = TTLCache(maxsize=MAX_KEYS, ttl=1)
_lock = threading.Lock()


def active_model_version_key(kind: str) -> str:
    return f"active_model_version:{kind}"


def _store(ttl: float) -> TTLCache:
    """The cache, made anew when ``ARI_CONFIG_CACHE_SECONDS`` changed (tests change it)."""
    global _cache
    if _cache.ttl != ttl:
        _cache = TTLCache(maxsize=MAX_KEYS, ttl=ttl)
    return _cache


def ttl_cached(key: str, load: Callable[[], T]) -> T:
    """``load()``'s value, computed at most once per ``ARI_CONFIG_CACHE_SECONDS``."""
    ttl = settings.ARI_CONFIG_CACHE_SECONDS
    if ttl <= 0:
        return load()
    with _lock:
        store = _store(ttl)
        try:
            return store[key]
        except KeyError:
            pass
    value = load()  # outside the lock: a slow load must not hold up other keys
    with _lock:
        store[key] = value
    return value


def ttl_cache_clear(*keys: str) -> None:
    """Forget ``keys`` (everything when none are given)."""
    with _lock:
        if not keys:
            _cache.clear()
        for key in keys:
            _cache.pop(key, None)


def ttl_cache_invalidate(*keys: str) -> None:
    """Forget ``keys`` now and again when the current transaction commits (a read between the
    two could otherwise cache the value from before the commit)."""
    ttl_cache_clear(*keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: ttl_cache_clear(*keys))
