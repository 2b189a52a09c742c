"""A missing or malformed setting stops start-up with one line that names it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 60,
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ari_review",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _clean_env() -> dict[str, str]:
    """The test process's environment without any setting this module controls."""
    controlled = {
        *GOOD_ENV,
        "EMAIL_PORT",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests
    }
    env = {k: v for k, v in os.environ.items() if k not in controlled}
    env["DJANGO_SETTINGS_MODULE"] = "ari_review.settings"
    env.update(GOOD_ENV)
    return env


def run_check(*args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    env = _clean_env()
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_good_production_environment_passes_check():
    result = run_check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://host-without-db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://h:notaport/db"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
    ],
)
def test_bad_setting_stops_startup_with_one_line_naming_it(overrides, named):
    result = run_check(**overrides)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_defaults_need_no_environment(tmp_path):
    result = run_check(
        DEBUG="1",
        SECRET_KEY=None,
        ALLOWED_HOSTS=None,
        REDIS_URL=None,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_check(
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ONCALL_EMAILS="pager@example.org",  # else conversations.W001: escalations e-mail no one
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
