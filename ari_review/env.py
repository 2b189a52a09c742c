"""Read the environment in one place.

Every setting the project takes from the environment is parsed here. A missing or malformed
value stops start-up with a one-line message naming the variable (``SystemExit`` prints it
without a traceback), never a stack trace deep inside Django.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(SystemExit):
    """A setting in the environment is missing or malformed."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"ari_review: configuration error: {name} {problem}")


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise EnvError(name, "is required but not set")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(name, f"must be a boolean (1/0, true/false, yes/no), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(name, f"must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(name, f"must be at least {minimum}, got {number}")
    return number


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise EnvError(name, f"must be a number, got {value!r}") from None
    if number != number or (minimum is not None and number < minimum):
        raise EnvError(name, f"must be at least {minimum}, got {value!r}")
    if maximum is not None and number > maximum:
        raise EnvError(name, f"must be at most {maximum}, got {value!r}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


_RATE_PERIODS = ("s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day")


def env_rate(name: str, default: str) -> str:
    """A request rate such as ``30/min`` (periods: s, min, hour, day), as DRF throttles take it."""
    value = (os.environ.get(name) or "").strip() or default
    count, _, period = value.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in _RATE_PERIODS:
        raise EnvError(
            name, f"must look like 30/min (a count, then /s, /min, /hour or /day), got {value!r}"
        )
    return value


def database_from_url(name: str, url: str, *, base_dir: str) -> dict:
    """Parse ``postgres://user:pass@host:port/db`` or ``sqlite:///path`` into Django's dict."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise EnvError(name, "must look like sqlite:///path/to/file.sqlite3")
        if not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = parsed.path.lstrip("/")
        if not db_name or not parsed.hostname:
            raise EnvError(name, "must look like postgres://user@host:5432/dbname")
        try:
            port = parsed.port
        except ValueError:
            raise EnvError(name, "has a port that is not a number") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": parsed.username or "postgres",
            "PASSWORD": parsed.password or "",
            "HOST": parsed.hostname,
            "PORT": str(port or 5432),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise EnvError(
        name, f"has unsupported scheme {parsed.scheme!r} (use postgres:// or sqlite:///)"
    )


def redis_url(name: str) -> str | None:
    url = env_str(name)
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise EnvError(name, "must look like redis://host:6379/0")
    try:
        _ = parsed.port
    except ValueError:
        raise EnvError(name, "has a port that is not a number") from None
    return url
