"""Benchmark of one chat turn: in-process through the whole pipeline, and over HTTP against
gunicorn on loopback beside a trivial JSON endpoint measured in the same run (the ceiling).

    python manage.py bench_chat                      # defaults: 300 turns, 20 users x 30 s
    python manage.py bench_chat --skip-http --turns 100

Over HTTP each endpoint gets ``--duration`` seconds in all, in ``--rounds`` turns (ping, chat,
ping, chat...), so that a drift in the machine's speed reaches both; the ratio is that of the
totals, and each round's ratio is reported too. ``--floor`` adds the least a turn can cost
(``conversations/bench_floor.py``) to the rounds. Prints a table and writes
``bench-results/chat.json``. Run it against PostgreSQL (the HTTP part starts gunicorn with this
process's environment). Everything it creates (users ``bench_chat_*``
and their sessions) is removed at the end unless ``--keep-data`` is given.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ari_review.services import user_upsert
from conversations.models import ChatSession

TARGET_P95_MS = 50.0
TARGET_RATIO = 0.5
BENCH_PREFIX = "bench_chat_"
# What people write in a session, including heavier messages and, rarely, high risk.
MESSAGES = [
    "Hi Ari",
    "I keep feeling like I'm not good enough at work.",
    "Yeah, it's been like this for years.",
    "Yes, I'm ready.",
    "Last week my manager gave me feedback in a meeting and I froze.",
    "I thought, everyone can see I'm a fraud.",
    "It says I'm not enough.",
    "I'd tell a friend she's doing her best.",
    "Okay, I'll try that this week.",
    "Stressed. Work is a lot this week.",
    "I don't really know how I feel.",
    "I just need a quick reset.",
    "Done. I noticed my lamp, the window and my hands.",
    "Thanks, that helped a bit.",
    "My partner and I keep fighting about the same things.",
    "I procrastinate on everything and then I feel awful about it.",
    "I felt small, like I didn't matter.",
    "Maybe that I'm allowed to make mistakes.",
    "I want to end my life tonight",
    "Still tense, honestly.",
]


# Each conversation (in-process and over HTTP) is this many messages in one session.
TURNS_PER_SESSION = 10
CHAT_PATH = "/api/v1/sessions/{}/messages/"
# With --floor: the least a turn can cost (conversations/bench_floor.py), its writes alone and
# with the models, served by a gunicorn with the benchmark's settings (never production's).
FLOOR_PHASES = {  # name: (path, label in the table)
    "floor_writes": ("/api/v1/bench/floor/{}/", "POST floor: the turn's writes only"),
    "floor_writes_models": ("/api/v1/bench/floor/{}/?models=1", "POST floor: writes + models"),
}
BENCH_SETTINGS = "ari_review.settings_bench"
SESSION_TYPES = ["gentle_deep", "check_in", "micro_practice"]


class _PingPlan:
    """One HTTP user calling the trivial endpoint."""

    def __init__(self, headers: dict) -> None:
        self.headers = headers

    def next_request(self) -> tuple[str, str, bytes | None, dict]:
        return "GET", "/api/v1/ping", None, self.headers


class _ChatPlan:
    """One HTTP user's conversations: as in-process, a new session every
    ``TURNS_PER_SESSION`` messages (so a high-risk message puts only the rest of its session
    into safety-check mode), and a new Idempotency-Key for every message. The count goes on
    across the warm-up and the measurement, so no measured message is a replay."""

    def __init__(
        self, index: int, session_ids: list[str], headers: dict, path: str = CHAT_PATH
    ) -> None:
        self.index = index
        self.session_ids = session_ids
        self.path = path
        self.headers = {**headers, "Content-Type": "application/json"}
        self.sent = 0

    @property
    def sessions_reused(self) -> bool:
        return self.sent > len(self.session_ids) * TURNS_PER_SESSION

    def next_request(self) -> tuple[str, str, bytes | None, dict]:
        n = self.sent
        self.sent += 1
        session_id = self.session_ids[(n // TURNS_PER_SESSION) % len(self.session_ids)]
        text = MESSAGES[(n + self.index) % len(MESSAGES)]
        headers = {**self.headers, "Idempotency-Key": f"bench-{self.index}-{n}"}
        body = json.dumps({"text": text}).encode()
        return "POST", self.path.format(session_id), body, headers


@dataclass
class _Phase:
    """What one endpoint's load produced: every latency (ms), the failures, the seconds."""

    latencies: list[float]
    errors: int
    seconds: float

    @classmethod
    def merge(cls, phases: list[_Phase]) -> _Phase:
        return cls(
            latencies=[ms for phase in phases for ms in phase.latencies],
            errors=sum(phase.errors for phase in phases),
            seconds=sum(phase.seconds for phase in phases),
        )

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies),
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.requests_per_s, 1),
            "errors": self.errors,
            **summary(self.latencies),
        }


def _ratio(chat: _Phase, ping: _Phase) -> float | None:
    return round(chat.requests_per_s / ping.requests_per_s, 3) if ping.requests_per_s else None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2) if values else None,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Benchmark one chat turn (in-process and over HTTP); prints a table, writes JSON."

    def add_arguments(self, parser):
        parser.add_argument("--turns", type=int, default=300, help="in-process turns")
        parser.add_argument("--users", type=int, default=20, help="concurrent HTTP users")
        parser.add_argument("--duration", type=float, default=30.0, help="seconds per endpoint")
        parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
        parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
        parser.add_argument(
            "--rounds", type=int, default=3, help="alternate ping and chat this many times"
        )
        parser.add_argument(
            "--floor",
            action="store_true",
            help="also measure the floor: a turn's writes alone, and with the models",
        )
        parser.add_argument("--skip-http", action="store_true")
        parser.add_argument("--keep-data", action="store_true")
        parser.add_argument("--output", default="bench-results/chat.json")

    # -- set-up ---------------------------------------------------------------------------------
    def _check_ready(self) -> dict:
        from conversations.backends.classifiers import (
            get_intent_classifier,
            get_safety_classifier,
        )
        from conversations.services.starter import starter_content_load

        starter_content_load()
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

    # -- in-process -----------------------------------------------------------------------------
    def _in_process(self, turns: int) -> dict:
        from conversations.services import chat_turn_run, session_create

        user = user_upsert(username=f"{BENCH_PREFIX}inproc", role="enduser").user
        timings: list[float] = []
        by_path: dict[str, list[float]] = {}
        stages: dict[str, list[float]] = {}
        session = None
        for i in range(turns + 20):  # the first 20 warm caches and are not counted
            if i % TURNS_PER_SESSION == 0:
                kind = SESSION_TYPES[(i // TURNS_PER_SESSION) % len(SESSION_TYPES)]
                session = session_create(user=user, session_type=kind)
            start = time.perf_counter()
            result = chat_turn_run(session=session, text=MESSAGES[i % len(MESSAGES)])
            elapsed = (time.perf_counter() - start) * 1000
            if i < 20:
                continue
            timings.append(elapsed)
            reply = result.reply
            path = "emergency" if reply.emergency else reply.provenance.get("kind", "generated")
            by_path.setdefault(path, []).append(elapsed)
            for stage, ms in reply.latency_ms.items():
                stages.setdefault(stage, []).append(ms)
        return {
            "turn": summary(timings),
            "by_path": {path: summary(values) for path, values in by_path.items()},
            "stages_mean_ms": {k: round(statistics.fmean(v), 2) for k, v in stages.items()},
        }

    # -- HTTP -----------------------------------------------------------------------------------
    def _start_gunicorn(
        self, port: int, workers: int, threads: int, settings_module: str
    ) -> subprocess.Popen:
        env = dict(os.environ)
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        env.update(
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE=settings_module,
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "ari_review.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ]
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, env=env, cwd=str(settings.BASE_DIR), stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError("gunicorn exited during start-up (see its output above).")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return process
            except OSError:
                time.sleep(0.25)
        process.terminate()
        raise CommandError("gunicorn did not answer within 60 s.")

    def _load(self, port: int, plans: list, duration: float, expected: int) -> _Phase:
        """One thread per plan, each sending its plan's next request in a loop for
        ``duration`` seconds."""
        users = len(plans)
        latencies: list[list[float]] = [[] for _ in range(users)]
        errors = [0] * users
        start_barrier = threading.Barrier(users + 1)
        stop_at = [0.0]

        def worker(index: int) -> None:
            plan = plans[index]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            start_barrier.wait()
            while time.monotonic() < stop_at[0]:
                method, path, body, headers = plan.next_request()
                begin = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == expected
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                latencies[index].append((time.perf_counter() - begin) * 1000)
                if not ok:
                    errors[index] += 1
            conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(users)]
        for thread in threads:
            thread.start()
        stop_at[0] = time.monotonic() + duration
        began = time.monotonic()
        start_barrier.wait()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        flat = [ms for per_user in latencies for ms in per_user]
        return _Phase(latencies=flat, errors=sum(errors), seconds=elapsed)

    def _http(
        self, users: int, duration: float, workers: int, threads: int, rounds: int, floor: bool
    ) -> dict:
        from rest_framework.authtoken.models import Token

        from conversations.services import session_create

        # Enough sessions for 30 messages a second per user (more than 2 cores serve); a user
        # who runs out starts over with its first session, and the results say so.
        per_user = 1 + int((duration + 3) * 30 / TURNS_PER_SESSION)
        # Each POST endpoint's users have sessions of their own.
        post_paths = {"chat_turn": CHAT_PATH}
        if floor:
            post_paths.update({name: path for name, (path, _) in FLOOR_PHASES.items()})
        plans_ping, plans_post = [], {name: [] for name in post_paths}
        for i in range(users):
            user = user_upsert(username=f"{BENCH_PREFIX}http_{i:02d}", role="enduser").user
            token, _ = Token.objects.get_or_create(user=user)
            headers = {"Authorization": f"Token {token.key}", "Accept": "application/json"}
            plans_ping.append(_PingPlan(headers))
            for name, post_path in post_paths.items():
                session_ids = [
                    str(
                        session_create(
                            user=user, session_type=SESSION_TYPES[(i + k) % len(SESSION_TYPES)]
                        ).public_id
                    )
                    for k in range(per_user)
                ]
                plans_post[name].append(_ChatPlan(i, session_ids, headers, post_path))
        connection.close()  # gunicorn's workers open their own connections
        port = free_port()
        settings_module = (
            BENCH_SETTINGS
            if floor
            else os.environ.get("DJANGO_SETTINGS_MODULE", "ari_review.settings")
        )
        process = self._start_gunicorn(port, workers, threads, settings_module)
        pings, posts = [], {name: [] for name in post_paths}
        try:
            # Warm every worker (imports, classifiers, the approved index) before measuring.
            for plans in plans_post.values():
                self._load(port, plans, min(3.0, duration), 201)
            # The endpoints take turns, so a drift in the machine's speed reaches all alike.
            for _ in range(rounds):
                pings.append(self._load(port, plans_ping, duration / rounds, 200))
                for name, plans in plans_post.items():
                    posts[name].append(self._load(port, plans, duration / rounds, 201))
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        ping, chat = _Phase.merge(pings), _Phase.merge(posts["chat_turn"])
        results = {
            "server": f"gunicorn {workers} sync workers x {threads} threads",
            "users": users,
            "duration_s": duration,
            "rounds": rounds,
            "ping": ping.summary(),
            "chat_turn": chat.summary(),
            "turns_per_session": TURNS_PER_SESSION,
            "sessions_reused": any(
                plan.sessions_reused for plans in plans_post.values() for plan in plans
            ),
            "throughput_ratio": _ratio(chat, ping),
            "round_ratios": [_ratio(c, p) for c, p in zip(posts["chat_turn"], pings, strict=True)],
        }
        if floor:
            results["floor"] = {}
            for name in FLOOR_PHASES:
                phase = _Phase.merge(posts[name])
                results["floor"][name] = {**phase.summary(), "ratio_to_ping": _ratio(phase, ping)}
        return results

    # -- report ---------------------------------------------------------------------------------
    def handle(self, *args, **options):
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
        }
        try:
            results["in_process"] = self._in_process(options["turns"])
            if not options["skip_http"] and connection.vendor == "sqlite":
                self.stderr.write(
                    "HTTP part skipped: 20 concurrent writers need PostgreSQL "
                    "(set DATABASE_URL=postgres://...); SQLite would only measure its lock."
                )
                results["http_skipped"] = "sqlite"
            elif not options["skip_http"]:
                results["http"] = self._http(
                    options["users"],
                    options["duration"],
                    options["workers"],
                    options["threads"],
                    max(1, options["rounds"]),
                    options["floor"],
                )
        finally:
            if not options["keep_data"]:
                self._cleanup()
        results["targets"] = self._targets(results)
        self._print(results)
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"\nwrote {output}")

    def _targets(self, results: dict) -> dict:
        targets = {
            "in_process_p95_ms<=50": results["in_process"]["turn"]["p95_ms"] <= TARGET_P95_MS
        }
        http_results = results.get("http")
        if http_results:
            targets["http_ratio>=0.5"] = (http_results["throughput_ratio"] or 0) >= TARGET_RATIO
            targets["http_zero_errors"] = (
                http_results["ping"]["errors"] == 0 and http_results["chat_turn"]["errors"] == 0
            )
        return targets

    def _print(self, results: dict) -> None:
        write = self.stdout.write
        inproc = results["in_process"]
        m = results["models"]
        write(
            f"Chat turn benchmark ({m['generator']} backend; safety {m['safety']}, "
            f"intent {m['intent']}; {results['machine']['cpus']} CPUs, "
            f"{results['machine']['database']})"
        )
        write("")
        write(f"{'in-process':<28}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        rows = [("one turn (all)", inproc["turn"])]
        rows += [(f"  path: {path}", s) for path, s in sorted(inproc["by_path"].items())]
        for label, s in rows:
            write(
                f"{label:<28}{s['n']:>7}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}"
                f"{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}"
            )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in inproc["stages_mean_ms"].items())
        write(f"stage means (ms): {stages}")
        http_results = results.get("http")
        if http_results:
            write("")
            write(
                f"HTTP: {http_results['server']}, {http_results['users']} concurrent users, "
                f"{http_results['duration_s']:.0f} s per endpoint in "
                f"{http_results['rounds']} alternating rounds"
            )
            write(
                f"{'endpoint':<38}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
                f"{'errors':>8}"
            )
            floor_rows = [
                (FLOOR_PHASES[name][1], s) for name, s in http_results.get("floor", {}).items()
            ]
            for label, s in (
                ("GET /api/v1/ping (ceiling)", http_results["ping"]),
                ("POST /api/v1/sessions/{id}/messages/", http_results["chat_turn"]),
                *floor_rows,
            ):
                write(
                    f"{label:<38}{s['requests']:>9}{s['requests_per_s']:>9.1f}"
                    f"{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['errors']:>8}"
                )
            rounds = ", ".join(str(r) for r in http_results["round_ratios"])
            write(
                f"chat/ping throughput ratio: {http_results['throughput_ratio']} (rounds: {rounds})"
            )
            for name, s in http_results.get("floor", {}).items():
                write(f"{name}/ping throughput ratio: {s['ratio_to_ping']}")
            if http_results["sessions_reused"]:
                write("note: some users ran out of fresh sessions and reused earlier ones")
        write("")
        for name, ok in results["targets"].items():
            write(f"target {name}: {'met' if ok else 'NOT met'}")
