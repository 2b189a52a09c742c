"""A small in-process cache with a time-to-live, for configuration read on every chat turn.

Admin-edited chat configuration (fixed replies, persona, catalogue), the active model version
of each classifier kind and the approved-content index key are read through :func:`ttl_cached`
and kept for ``ARI_CONFIG_CACHE_SECONDS`` (0 turns the cache off), so a change made in another
process takes effect within seconds. A service that makes such a change calls
:func:`ttl_cache_invalidate` so that it is seen at once in its own process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction

T = TypeVar("T")

APPROVED_INDEX_KEY = "approved_index_key"

_cache: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


def active_model_version_key(kind: str) -> str:
    return f"active_model_version:{kind}"


def ttl_cached(key: str, load: Callable[[], T]) -> T:
    """``load()``'s value, computed at most once per ``ARI_CONFIG_CACHE_SECONDS``."""
    ttl = settings.ARI_CONFIG_CACHE_SECONDS
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = load()
    with _lock:
        _cache[key] = (now + ttl, value)
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
