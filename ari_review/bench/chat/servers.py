"""The processes the benchmark starts, each on a free loopback port, and stops again: gunicorn
(as the README starts it in production) and a private redis-server (never the shared 6379)."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

# gunicorn's arbiter logs both when it kills a worker: a timed-out one, or one killed by a signal.
_KILL_LINES = (
    re.compile(r"WORKER TIMEOUT \(pid:(\d+)\)"),
    re.compile(r"Worker \(pid:(\d+)\) was sent"),
)
START_TIMEOUT_S = 60
UNLIMITED_RATE = "1000000/s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def database_url() -> str:
    """The PostgreSQL database this process uses, as a ``DATABASE_URL`` for gunicorn."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    user = quote(db.get("USER") or "postgres", safe="")
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_kills(log: str) -> dict:
    """Workers gunicorn killed, from its log: distinct pids, and the lines that said so."""
    pids: set[str] = set()
    lines = 0
    for line in log.splitlines():
        for pattern in _KILL_LINES:
            match = pattern.search(line)
            if match:
                pids.add(match.group(1))
                lines += 1
    return {"workers_killed": len(pids), "lines": lines}


class Gunicorn:
    """``gunicorn ari_review.wsgi`` with production settings (``ari_review.settings``, DEBUG
    off), sync workers (gthread with ``threads`` > 1) and gunicorn's default worker timeout, as
    the README runs it; the database is this process's. ``env`` overrides the environment (a
    private Redis, the generator...). Its stderr goes to ``log_path``, so its worker kills can
    be counted for any stretch of the run (:meth:`log_mark`, :meth:`kills_since`)."""

    def __init__(self, *, workers: int, threads: int, env: dict[str, str], log_path: Path):
        self.workers = workers
        self.threads = threads
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        kind = "sync" if self.threads == 1 else f"gthread x {self.threads} threads"
        return f"gunicorn {self.workers} workers ({kind})"

    def start(self) -> Gunicorn:
        env = dict(os.environ)
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        env.update(
            DJANGO_SETTINGS_MODULE="ari_review.settings",
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            LOG_LEVEL="WARNING",
            DATABASE_URL=database_url(),
            # Each simulated user sends many times what a person can: the per-user chat rate
            # limit would answer 429. It is still checked on every request (and costs the same).
            ARI_THROTTLE_CHAT=UNLIMITED_RATE,
        )
        env.update(self.env)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "ari_review.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--log-level",
            "warning",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
                command,
                env=env,
                cwd=str(settings.BASE_DIR),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up:\n{self.log()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_S} s.")

    def stop(self) -> None:
        """Graceful stop (requests under way finish), then a kill if it takes too long."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_mark(self) -> int:
        return self.log_path.stat().st_size

    def kills_since(self, mark: int) -> dict:
        with open(self.log_path, "rb") as log:
            log.seek(mark)
            return worker_kills(log.read().decode("utf-8", errors="replace"))


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


class PrivateRedis:
    """A redis-server of the benchmark's own on a free port (never the shared 6379), storing
    nothing on disk: stopped and started again to play an outage."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        if self.port == 6379:  # pragma: no cover - a free port is never the shared server's
            raise RuntimeError("refusing to run a private Redis on 6379")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _port_open(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def flush(self) -> None:
        """Forget everything (the circuit breakers' state between fault phases)."""
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()
