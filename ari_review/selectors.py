"""Reads shared by the whole project: service health."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: str


def database_health() -> ComponentHealth:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return ComponentHealth(False, type(exc).__name__)
    return ComponentHealth(True, connection.vendor)


def broker_health() -> ComponentHealth:
    if not settings.REDIS_URL:
        return ComponentHealth(True, "in-process (no broker configured)")
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception as exc:  # connection refused, timeout, auth...
        return ComponentHealth(False, type(exc).__name__)
    finally:
        client.close()
    return ComponentHealth(True, "redis")
