"""A circuit breaker per generation backend, kept in Django's cache (Redis in production), so
every web worker and thread sees the same state.

``closed``     calls go through; a failure adds one to a count (forgotten an hour after the
               first failure), a success clears it.
``open``       after ``ARI_GENERATION_BREAKER_FAILURES`` failures in a row: every call is refused
               at once with ``GenerationError("circuit_open")`` (the chat turn falls back to
               approved content) for ``ARI_GENERATION_BREAKER_COOLDOWN_S`` seconds.
``half_open``  after the cool-down: one trial call goes through (a cache ``add`` elects it across
               processes), the others are still refused. Its success closes the breaker, its
               failure opens it for another cool-down.

A breaker is keyed by backend name, model and base URL, so a new server or model starts closed.
The ``approved`` backend has none: it is the fallback and must always run. When the cache cannot
be reached, calls go through (the breaker fails open) and the error is logged.

A closed breaker with no failures costs one cache read per call; its state is written only on a
failure, and cleared by the first success after one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from conversations.backends.base import Generator
from conversations.backends.generation import GenerationError

logger = logging.getLogger(__name__)

EXEMPT_BACKENDS = frozenset({"approved", "composed"})  # local: nothing to break
FAILURE_MEMORY_S = 3600  # a failure count older than this is forgotten
OPEN_MEMORY_S = 86400  # an open breaker nobody calls any more is forgotten after a day
TRIAL_GRACE_S = 5  # a half-open trial lock outlives the trial call's deadline by this much
_INDEX_KEY = "generation:breakers"  # id -> {"backend", "model"} of every breaker with state

T = TypeVar("T")


@dataclass(frozen=True)
class BreakerKey:
    id: str
    backend: str
    model: str

    @property
    def failures_key(self) -> str:
        return f"generation:breaker:{self.id}:failures"

    @property
    def opened_key(self) -> str:
        return f"generation:breaker:{self.id}:opened_at"

    @property
    def trial_key(self) -> str:
        return f"generation:breaker:{self.id}:trial"

    @property
    def keys(self) -> list[str]:
        return [self.failures_key, self.opened_key, self.trial_key]


@dataclass(frozen=True)
class _Ticket:
    """How a call was let through: ``closed`` or ``trial``; ``seen`` when state existed."""

    state: str
    seen: bool


def breaker_key(generator: Generator) -> BreakerKey:
    """The breaker of ``generator``: its name, model (or model directory and adapter, so a
    broken adapter does not stop its base model) and base URL."""
    backend = str(getattr(generator, "name", "") or type(generator).__name__)
    model = str(getattr(generator, "model", "") or "")
    model_dir = str(getattr(generator, "model_dir", "") or "")
    adapter_dir = str(getattr(generator, "adapter_dir", "") or "") if model_dir else ""
    target = str(getattr(generator, "base_url", "") or "")
    identity = model or model_dir
    if adapter_dir:
        identity += f"\0{adapter_dir}"
    digest = hashlib.sha256(f"{backend}\0{identity}\0{target}".encode()).hexdigest()
    # Shown on the public /healthz: a model name, never a URL or a full path.
    shown = model
    if not shown and model_dir:
        shown = os.path.basename(os.path.normpath(model_dir))
        if adapter_dir:
            shown += "+" + os.path.basename(os.path.normpath(adapter_dir))
    return BreakerKey(id=digest[:16], backend=backend, model=shown)


def breaker_exempt(generator: Generator) -> bool:
    return getattr(generator, "name", "") in EXEMPT_BACKENDS


def breaker_call(generator: Generator, call: Callable[[], T]) -> T:
    """``call()`` guarded by ``generator``'s breaker: refused with ``circuit_open`` while the
    breaker is open, its outcome recorded otherwise (any exception is a failure, re-raised)."""
    key = breaker_key(generator)
    ticket = _enter(key)
    try:
        result = call()
    except Exception:
        _failure(key, ticket)
        raise
    if ticket.seen:
        _success(key, ticket)
    return result


def _cooldown() -> int:
    return settings.ARI_GENERATION_BREAKER_COOLDOWN_S


def _enter(key: BreakerKey) -> _Ticket:
    try:
        values = cache.get_many([key.failures_key, key.opened_key])
    except Exception as exc:  # the cache is down: fail open, generation has its own deadline
        logger.warning("generation breaker unreadable backend=%s error=%s", key.backend, exc)
        return _Ticket("closed", seen=False)
    failures = int(values.get(key.failures_key) or 0)
    opened_at = values.get(key.opened_key)
    if opened_at is None:
        return _Ticket("closed", seen=failures > 0)
    if time.time() < float(opened_at) + _cooldown():
        raise GenerationError("circuit_open")
    trial_ttl = int(settings.ARI_GENERATION_DEADLINE_S) + TRIAL_GRACE_S
    try:
        elected = cache.add(key.trial_key, time.time(), timeout=trial_ttl)
    except Exception as exc:
        logger.warning("generation breaker unwritable backend=%s error=%s", key.backend, exc)
        elected = True
    if not elected:
        raise GenerationError("circuit_open")  # another call is the half-open trial
    logger.info("generation breaker half-open: trial call backend=%s id=%s", key.backend, key.id)
    return _Ticket("trial", seen=True)


def _failure(key: BreakerKey, ticket: _Ticket) -> None:
    now = time.time()
    try:
        cache.add(key.failures_key, 0, timeout=FAILURE_MEMORY_S)
        try:
            failures = cache.incr(key.failures_key)
        except ValueError:  # expired between the two calls
            cache.set(key.failures_key, 1, timeout=FAILURE_MEMORY_S)
            failures = 1
        if ticket.state == "trial":
            cache.set(key.opened_key, now, timeout=OPEN_MEMORY_S)
            cache.delete(key.trial_key)
            logger.warning("generation breaker re-opened backend=%s id=%s", key.backend, key.id)
        elif failures >= settings.ARI_GENERATION_BREAKER_FAILURES:
            if cache.add(key.opened_key, now, timeout=OPEN_MEMORY_S):
                logger.warning(
                    "generation breaker opened backend=%s id=%s failures=%s",
                    key.backend,
                    key.id,
                    failures,
                )
        if failures == 1 or failures == settings.ARI_GENERATION_BREAKER_FAILURES:
            _index_add(key)
    except Exception as exc:
        logger.warning("generation breaker unwritable backend=%s error=%s", key.backend, exc)


def _success(key: BreakerKey, ticket: _Ticket) -> None:
    try:
        cache.delete_many(key.keys)
    except Exception as exc:
        logger.warning("generation breaker unwritable backend=%s error=%s", key.backend, exc)
        return
    if ticket.state == "trial":
        logger.info("generation breaker closed backend=%s id=%s", key.backend, key.id)


def _index_add(key: BreakerKey) -> None:
    index = cache.get(_INDEX_KEY) or {}
    if key.id not in index:
        index[key.id] = {"backend": key.backend, "model": key.model}
        cache.set(_INDEX_KEY, index, timeout=OPEN_MEMORY_S)


def _indexed_keys() -> list[BreakerKey]:
    """Every breaker that has had a failure (and was not forgotten or reset since)."""
    return [
        BreakerKey(id=id_, backend=meta["backend"], model=meta["model"])
        for id_, meta in (cache.get(_INDEX_KEY) or {}).items()
    ]


def _configured_key() -> BreakerKey | None:
    from conversations.backends.generation import get_generator

    try:
        generator = get_generator()
    except Exception:  # a backend that cannot be built falls back on every turn anyway
        return None
    return None if breaker_exempt(generator) else breaker_key(generator)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


def breaker_states() -> list[dict[str, Any]]:
    """The state of every known breaker: ``backend``, ``model``, ``id``, ``state`` (closed, open,
    half_open), ``failures``, ``opened_at`` and ``retry_at`` (ISO times, or None).

    Raises what the cache raises when it cannot be reached (the health check reports it).
    """
    keys = {key.id: key for key in _indexed_keys()}
    configured = _configured_key()
    if configured is not None:
        keys.setdefault(configured.id, configured)
    now = time.time()
    states = []
    for key in keys.values():
        values = cache.get_many([key.failures_key, key.opened_key])
        failures = int(values.get(key.failures_key) or 0)
        opened_at = values.get(key.opened_key)
        if opened_at is None and failures == 0 and (configured is None or key.id != configured.id):
            continue  # forgotten or reset, and not the configured backend
        retry_at = None if opened_at is None else float(opened_at) + _cooldown()
        state = "closed" if retry_at is None else ("open" if now < retry_at else "half_open")
        states.append(
            {
                "backend": key.backend,
                "model": key.model,
                "id": key.id,
                "state": state,
                "failures": failures,
                "opened_at": _iso(None if opened_at is None else float(opened_at)),
                "retry_at": _iso(retry_at),
            }
        )
    return sorted(states, key=lambda s: (s["backend"], s["model"], s["id"]))


def breaker_reset(*, breaker_id: str | None = None) -> int:
    """Close one breaker (``breaker_id``) or all of them; returns how many had state."""
    keys = [k for k in _indexed_keys() if breaker_id is None or k.id == breaker_id]
    if breaker_id is not None and not keys:
        keys = [BreakerKey(id=breaker_id, backend="", model="")]
    cache.delete_many([name for key in keys for name in key.keys])
    index = cache.get(_INDEX_KEY) or {}
    remaining = {id_: meta for id_, meta in index.items() if id_ not in {k.id for k in keys}}
    if remaining != index:
        cache.set(_INDEX_KEY, remaining, timeout=OPEN_MEMORY_S)
    for key in keys:
        logger.info("generation breaker reset backend=%s id=%s", key.backend, key.id)
    return len(keys)


@dataclass(frozen=True)
class GenerationHealth:
    """For ``/healthz``: ``ok`` unless the configured backend's breaker is not closed (then
    replies come from approved content: degraded, still serving) or the state is unreadable."""

    ok: bool
    detail: str
    breakers: list[dict[str, Any]]


def generation_health() -> GenerationHealth:
    from conversations.backends.generation import get_generator

    try:
        states = breaker_states()
    except Exception as exc:  # the cache is down
        return GenerationHealth(False, f"breaker state unreadable: {type(exc).__name__}", [])
    try:
        generator = get_generator()
    except Exception as exc:
        reason = getattr(exc, "reason", type(exc).__name__)
        detail = f"{settings.ARI_GENERATOR} unavailable ({reason}): approved content serves"
        return GenerationHealth(False, detail, states)
    if breaker_exempt(generator):
        return GenerationHealth(True, generator.name, states)
    key = breaker_key(generator)
    mine = next((s for s in states if s["id"] == key.id), None)
    if mine is None or mine["state"] == "closed":
        return GenerationHealth(True, key.backend, states)
    detail = f"{key.backend} breaker {mine['state']}: approved content serves"
    return GenerationHealth(False, detail, states)
