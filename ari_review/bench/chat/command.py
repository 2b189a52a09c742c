"""Benchmark of the chat turn and of its crisis path under faults (issue #13's targets), all in
one run, printed side by side and written to ``bench-results/chat.json``:

1. in-process: one turn through the whole pipeline, p95 <= 50 ms, on this process's database;
2. over HTTP: ``--users`` users x ``--duration`` s against gunicorn, as the README runs it in
   production, on PostgreSQL: no errors, p95 <= 250 ms, and every message sent stored exactly
   once (one user message and one reply per (session, Idempotency-Key), read back afterwards);
3. faults (unless ``--skip-faults``; ``--faults`` runs only these), against a private
   redis-server on a free port:
   a. Redis stopped: ``--fault-messages`` high-risk messages, each in a new session: every reply
      an emergency reply, p95 <= 300 ms; Redis started again, the escalation e-mails swept: each
      notification row sent exactly once (e-mails written to files);
   b. the ``openai`` backend against a loopback server that is healthy, hangs, then drips a byte
      a second, ``--users`` users x ``--fault-duration`` s each, deadline ``--deadline`` s: no
      request over deadline + 1 s, no errors, no gunicorn worker killed, p95 within 20% of the
      healthy phase (the circuit breaker serves approved content while the server is faulty).

    python manage.py bench_chat                        # all phases (PostgreSQL for 2 and 3)
    python manage.py bench_chat --skip-http --skip-faults --turns 300   # in-process only
    python manage.py bench_chat --faults --fault-duration 10             # the fault phases only

On SQLite only the in-process phase runs. Every process it starts (gunicorn, redis-server, the
loopback server) is stopped before it exits, on errors and on SIGTERM too; everything it stores
(users ``bench_chat_*`` and their sessions) is deleted unless ``--keep-data`` is given. The
helpers live beside this module in ``ari_review/bench/chat/``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import platform
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ari_review.bench.chat.phases import (
    BENCH_PREFIX,
    http_target,
    in_process,
    llm_faults,
    redis_outage,
)
from ari_review.bench.chat.report import lines, targets, targets_json
from ari_review.bench.chat.servers import PrivateRedis, redis_server_available
from conversations.models import ChatSession

# The README's production command line: gunicorn ari_review.wsgi -b 127.0.0.1:8000 -w 4
README_WORKERS = 4
README_THREADS = 4  # gthread: a worker waiting on the LLM does not hold the others' requests


def _release_costs(calls: int) -> dict:
    """Resolving the release and arm, and a safety canary's cost (issue #17)."""
    from ari_review.bench.chat.release_costs import release_arm_cost, safety_canary_cost

    session = ChatSession(session_type="check_in")  # never saved: the arm reads its key only
    return {"arm": release_arm_cost(session, calls * 10), "canary": safety_canary_cost(calls)}


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through every ``finally`` that stops a process


class Command(BaseCommand):
    help = (
        "Benchmark the chat turn in-process, over HTTP and under faults (Redis down, a hanging "
        "or dripping LLM); prints the targets side by side and writes JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--turns", type=int, default=300, help="in-process turns")
        parser.add_argument("--users", type=int, default=20, help="concurrent HTTP users")
        parser.add_argument(
            "--duration", type=float, default=180.0, help="seconds of HTTP load (target 2)"
        )
        parser.add_argument("--workers", type=int, default=README_WORKERS, help="gunicorn workers")
        parser.add_argument(
            "--threads",
            type=int,
            default=README_THREADS,
            help="gunicorn threads per worker (1: sync workers)",
        )
        parser.add_argument(
            "--fault-duration", type=float, default=30.0, help="seconds of each LLM fault phase"
        )
        parser.add_argument(
            "--fault-messages", type=int, default=20, help="high-risk messages while Redis is down"
        )
        parser.add_argument(
            "--deadline",
            type=float,
            default=2.0,
            help="ARI_GENERATION_DEADLINE_S of the LLM fault phases (seconds)",
        )
        parser.add_argument("--skip-http", action="store_true", help="no HTTP phase (target 2)")
        parser.add_argument("--skip-faults", action="store_true", help="no fault phases")
        parser.add_argument("--faults", action="store_true", help="only the fault phases")
        parser.add_argument("--keep-data", action="store_true")
        parser.add_argument(
            "--logs", default="", help="keep each gunicorn's stderr in this directory"
        )
        parser.add_argument("--output", default="bench-results/chat.json")

    # -- set-up ---------------------------------------------------------------------------------
    def _check_ready(self) -> dict:
        from conversations.backends.classifiers import (
            get_intent_classifier,
            get_safety_classifier,
        )

        # By name: the starter set includes the workspace's seed dialogues (a floor above).
        call_command("load_starter_content", stdout=io.StringIO())
        try:
            safety = get_safety_classifier()
            intent = get_intent_classifier()
        except Exception as exc:
            raise CommandError(
                f"The classifiers are not ready ({exc}). Train and activate them first."
            ) from exc
        return {
            "safety": getattr(safety, "version", "?"),
            "intent": getattr(intent, "version", "?"),
            "generator": settings.ARI_GENERATOR,
        }

    def _cleanup(self) -> None:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(username__startswith=BENCH_PREFIX)
        ChatSession.objects.filter(user__in=users).delete()
        users.delete()

    @staticmethod
    def _servers_unavailable() -> str:
        """Why the phases that need gunicorn cannot run here ("" when they can)."""
        if connection.vendor != "postgresql":
            return (
                f"needs PostgreSQL (this is {connection.vendor}; set DATABASE_URL=postgres://...): "
                "concurrent writers on SQLite would only measure its lock"
            )
        if importlib.util.find_spec("gunicorn") is None:
            return "gunicorn is not installed"
        return ""

    @staticmethod
    def _keep_logs(tmp: Path, logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        for log in tmp.glob("gunicorn-*.log"):
            shutil.copy(log, logs / log.name)

    # -- the run --------------------------------------------------------------------------------
    def handle(self, *args, **options):
        if not 0.1 <= options["deadline"] <= 300:
            raise CommandError("--deadline must be from 0.1 to 300 seconds.")
        for name in ("turns", "users", "workers", "threads", "fault_messages"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if options["duration"] <= 0 or options["fault_duration"] <= 0:
            raise CommandError("--duration and --fault-duration must be more than 0 seconds.")
        self._started = time.monotonic()
        models = self._check_ready()
        self._cleanup()
        results: dict = {
            "benchmark": "chat_turn",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "database": connection.vendor,
            },
            "models": models,
            "options": {
                key: options[key]
                for key in (
                    "turns",
                    "users",
                    "duration",
                    "workers",
                    "threads",
                    "fault_duration",
                    "fault_messages",
                    "deadline",
                )
            },
            "skipped": {},
        }
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if in_main_thread else None
        try:
            with tempfile.TemporaryDirectory(prefix="bench_chat_") as tmp:
                try:
                    self._run(results, options, Path(tmp))
                finally:
                    if options["logs"]:
                        self._keep_logs(Path(tmp), Path(options["logs"]))
        except RuntimeError as exc:  # a process that would not start
            raise CommandError(str(exc)) from exc
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
            if not options["keep_data"]:
                self._cleanup()
        self._progress("done")
        found = targets(results)
        results["targets"] = targets_json(found)
        for line in lines(results, found):
            self.stdout.write(line)
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"\nwrote {output}")

    def _progress(self, label: str) -> None:
        """One line on stderr per phase, with the seconds since the run began."""
        self.stderr.write(f"[{time.monotonic() - self._started:4.0f} s] {label}")

    def _run(self, results: dict, options: dict, tmp: Path) -> None:
        skipped = results["skipped"]
        servers = {"workers": options["workers"], "threads": options["threads"], "tmp": tmp}
        unavailable = self._servers_unavailable()

        if options["faults"]:
            skipped["in_process"] = "--faults: the fault phases only"
        else:
            self._progress("in-process turns...")
            results["in_process"] = in_process(options["turns"])
            self._progress("release costs...")
            results["release"] = _release_costs(options["turns"])

        if options["skip_http"] or options["faults"]:
            skipped["http"] = "--faults" if options["faults"] else "--skip-http"
        elif unavailable:
            skipped["http"] = unavailable
        else:
            self._progress(f"HTTP: {options['users']} users x {options['duration']:g} s...")
            results["http"] = http_target(
                users=options["users"], duration=options["duration"], **servers
            )

        fault_skip = (
            "--skip-faults"
            if options["skip_faults"]
            else unavailable
            or ("" if redis_server_available() else "redis-server is not installed")
        )
        if fault_skip:
            skipped["redis_down"] = skipped["llm"] = fault_skip
            return
        (tmp / "redis").mkdir()
        redis = PrivateRedis(tmp / "redis")
        faults = results["faults"] = {}
        try:
            redis.start()
            self._progress(f"faults: Redis down, {options['fault_messages']} messages...")
            faults["redis_down"] = redis_outage(
                messages=options["fault_messages"], users=options["users"], redis=redis, **servers
            )
            if redis.process is None:
                redis.start()
            self._progress(
                f"faults: LLM healthy, hanging, dripping, {options['fault_duration']:g} s each..."
            )
            faults["llm"] = llm_faults(
                users=options["users"],
                duration=options["fault_duration"],
                deadline=options["deadline"],
                redis=redis,
                **servers,
            )
        finally:
            redis.stop()
