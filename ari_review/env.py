"""Read the environment in one place: django-environ's ``Env``, with the project's rules on top.

A missing or malformed value stops start-up with a one-line message naming the variable
(:class:`EnvError` is a ``SystemExit``, printed without a traceback), never a stack trace deep
inside Django. What this adds to django-environ:

- an empty value counts as unset (its default applies);
- list items are stripped;
- a boolean must be 1/0, true/false, yes/no or on/off (django-environ reads any other word as
  false, so a typo would silently turn a setting off);
- numbers may have bounds (``minimum``, ``maximum``);
- values are taken as written: a leading ``$`` is not a reference to another variable (a
  secret may start with one);
- the database may only be PostgreSQL or SQLite, and request rates look like ``30/min``.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import environ

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_KINDS = {bool: "a boolean (1/0, true/false, yes/no)", int: "an integer", float: "a number"}
_RATE_PERIODS = ("s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day")


class EnvError(SystemExit):
    """A setting in the environment is missing or malformed."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"ari_review: configuration error: {name} {problem}")


class Env(environ.Env):
    """``environ.Env`` whose every read fails with :class:`EnvError` naming the variable."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var, "")
        if raw.strip() == "":
            if default is self.NOTSET:
                raise EnvError(var, "is required but not set")
            return self.parse_value(default, cast) if parse_default else default
        if cast is bool and raw.strip().lower() not in _TRUE | _FALSE:
            raise EnvError(var, f"must be {_KINDS[bool]}, got {raw!r}")
        try:
            return self.parse_value(raw, cast)
        except (TypeError, ValueError):
            raise EnvError(var, f"must be {_KINDS.get(cast, 'valid')}, got {raw!r}") from None

    def list(self, var, cast=None, default=environ.Env.NOTSET) -> list:
        """Comma-separated; items stripped, empty ones dropped (``a, b,`` is ``["a", "b"]``)."""
        items = super().list(var, cast=cast, default=default)
        return [i.strip() if isinstance(i, str) else i for i in items if str(i).strip()]

    def int(self, var, default=environ.Env.NOTSET, *, minimum: int | None = None) -> int:
        return _bounded(var, super().int(var, default), minimum, None)

    def float(
        self,
        var,
        default=environ.Env.NOTSET,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        number = super().float(var, default)
        if number != number:  # NaN
            raise EnvError(var, f"must be a number, got {number!r}")
        return _bounded(var, number, minimum, maximum)

    def rate(self, var, default: str) -> str:
        """A request rate such as ``30/min`` (s, min, hour, day), as DRF throttles take it."""
        value = self.str(var, default).strip()
        count, _, period = value.partition("/")
        if not count.isdigit() or int(count) < 1 or period not in _RATE_PERIODS:
            raise EnvError(
                var, f"must look like 30/min (a count, then /s, /min, /hour or /day), got {value!r}"
            )
        return value

    def database(self, var, default: str, *, base_dir: str) -> dict:
        """``postgres://user:pass@host:port/db`` or ``sqlite:///path`` as Django's dict."""
        url = self.str(var, default)
        scheme = urlparse(url).scheme
        if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
            raise EnvError(
                var, f"has unsupported scheme {scheme!r} (use postgres:// or sqlite:///)"
            )
        if scheme == "sqlite" and (not url.startswith("sqlite:///") or url == "sqlite:///"):
            raise EnvError(var, "must look like sqlite:///path/to/file.sqlite3")
        try:
            _ = urlparse(url).port
        except ValueError:
            raise EnvError(var, "has a port that is not a number") from None
        config = self.db_url_config(url)
        if scheme == "sqlite":
            return {**config, "NAME": os.path.join(base_dir, config["NAME"])}
        if not config.get("NAME") or not config.get("HOST"):
            raise EnvError(var, "must look like postgres://user@host:5432/dbname")
        return {
            **config,
            "USER": config.get("USER") or "postgres",
            "PORT": str(config.get("PORT") or 5432),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }

    def redis_url(self, var) -> str | None:
        url = self.str(var, None)
        if url is None:
            return None
        parsed = urlparse(url)
        if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
            raise EnvError(var, "must look like redis://host:6379/0")
        try:
            _ = parsed.port
        except ValueError:
            raise EnvError(var, "has a port that is not a number") from None
        return url


def _bounded(var: str, number, minimum, maximum):
    if minimum is not None and number < minimum:
        raise EnvError(var, f"must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise EnvError(var, f"must be at most {maximum}, got {number}")
    return number
