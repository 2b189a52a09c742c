"""The benchmark's phases. Each returns a JSON-ready dict; the command puts them side by side.

1. ``in_process``: one turn through the whole pipeline, on this process's database.
2. ``http_target``: 20 users over HTTP against gunicorn; then every message sent is looked up.
3. ``redis_outage``: high-risk messages while the Redis that gunicorn uses is stopped; then the
   escalation e-mails are swept and each is checked to have gone out exactly once.
4. ``llm_faults``: the ``openai`` backend against a loopback server, healthy, hanging, dripping.

Every process a phase starts is stopped before it returns, whatever happens.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from ari_review.bench.chat.checks import (
    emails_read,
    messages_stored_check,
    notifications_sent_once,
    notifications_state,
    replies_provenance,
)
from ari_review.bench.chat.load import (
    CHAT_PATH,
    HIGH_RISK_MESSAGE,
    MESSAGES,
    TURNS_PER_SESSION,
    ChatPlan,
    load_run,
    post_json,
)
from ari_review.bench.chat.servers import Gunicorn, PrivateRedis
from ari_review.bench.chat.stats import Phase, summary
from ari_review.services import api_token_issue, user_upsert

BENCH_PREFIX = "bench_chat_"
SESSION_TYPES = ["gentle_deep", "check_in", "micro_practice"]
# Load before each measurement, in rounds of WARMUP_S, until every gunicorn worker has loaded
# its models: a round without errors or turns over WARM_MAX_MS (a cold worker's first turn
# loads models for seconds), for WARMUP_MAX_S at most. Its first round is the cold start.
WARMUP_S = 3.0
WARM_MAX_MS = 5000.0
WARMUP_MAX_S = 120.0
# Sessions are made before the load at this many messages a second per user (more than two
# cores serve); a user who runs out starts over with its first session, and the results say so.
MAX_RATE_PER_USER = 15
ONCALL_EMAIL = "oncall@example.org"
FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


# -- 1. in-process -----------------------------------------------------------------------------
def in_process(turns: int) -> dict:
    """``turns`` turns through ``chat_turn_run`` (after 20 that warm the caches), in sessions of
    ``TURNS_PER_SESSION`` messages: the whole turn, by path, and each stage's mean."""
    from conversations.services import chat_turn_run, session_create

    user = user_upsert(username=f"{BENCH_PREFIX}inproc", role="enduser").user
    timings: list[float] = []
    by_path: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}
    session = None
    for i in range(turns + 20):
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
        "database": connection.vendor,
        "generator": settings.ARI_GENERATOR,
        "turn": summary(timings),
        "by_path": {path: summary(values) for path, values in sorted(by_path.items())},
        "stages_mean_ms": {k: round(statistics.fmean(v), 2) for k, v in stages.items()},
        # resolving the turn's release and arm (docs/releases.md): target <= 0.5 ms
        "release_arm": summary(stages.get("release_arm", [])),
    }


# -- users and sessions over HTTP --------------------------------------------------------------
def _token_headers(username: str) -> dict:
    user = user_upsert(username=username, role="enduser").user
    return {"Authorization": f"Token {api_token_issue(user=user)}", "Accept": "application/json"}


def _sessions(username: str, count: int, offset: int = 0) -> list[str]:
    from django.contrib.auth import get_user_model

    from conversations.services import session_create

    user = get_user_model().objects.get(username=username)
    return [
        str(
            session_create(
                user=user, session_type=SESSION_TYPES[(offset + k) % len(SESSION_TYPES)]
            ).public_id
        )
        for k in range(count)
    ]


def http_users(label: str, users: int, seconds: float) -> list[ChatPlan]:
    """``users`` end users ``bench_chat_<label>_NN`` with tokens, each with enough sessions of
    its own for ``seconds`` of load."""
    per_user = 1 + math.ceil(seconds * MAX_RATE_PER_USER / TURNS_PER_SESSION)
    plans = []
    for i in range(users):
        username = f"{BENCH_PREFIX}{label}_{i:02d}"
        headers = _token_headers(username)
        plans.append(ChatPlan(i, _sessions(username, per_user, offset=i), headers))
    return plans


def warm_up(port: int, plans: list[ChatPlan]) -> dict:
    """Load ``port`` with ``plans`` until its workers are warm (see WARMUP_S); the first round's
    figures (every worker's first turns) are reported as the cold start."""
    began = time.monotonic()
    rounds: list[Phase] = []
    warm = False
    while not warm and (not rounds or time.monotonic() - began < WARMUP_MAX_S):
        phase = load_run(port, plans, WARMUP_S)
        rounds.append(phase)
        warm = phase.errors == 0 and max(phase.latencies, default=0.0) <= WARM_MAX_MS
    cold = rounds[0]
    return {
        "cold_start": {
            "requests": len(cold.latencies),
            "errors": cold.errors,
            "max_ms": round(max(cold.latencies), 1) if cold.latencies else None,
        },
        "rounds": len(rounds),
        "seconds": round(time.monotonic() - began, 1),
        "warm": warm,
    }


def _no_warmup() -> dict:
    return {"cold_start": {"requests": 0, "errors": 0, "max_ms": None}, "rounds": 0, "warm": False}


def _sends(plans: list[ChatPlan]) -> list[tuple[str, str]]:
    return [send for plan in plans for send in plan.sends]


def _session_ids(plans: list[ChatPlan]) -> list[str]:
    return sorted({session_id for session_id, _ in _sends(plans)})


# -- 2. HTTP: 20 users, every message stored exactly once --------------------------------------
def http_target(*, users: int, duration: float, workers: int, threads: int, tmp: Path) -> dict:
    warm_plans = http_users("http_warm", users, WARMUP_S)
    plans = http_users("http", users, duration)
    connection.close()  # gunicorn's workers open their own connections
    server = Gunicorn(workers=workers, threads=threads, env={}, log_path=tmp / "gunicorn-http.log")
    try:
        server.start()
        warmup = warm_up(server.port, warm_plans)
        mark = server.log_mark()
        phase = load_run(server.port, plans, duration)
    finally:
        server.stop()  # graceful: every request under way is answered (and stored) first
    return {
        "server": server.description,
        "users": users,
        "duration_s": duration,
        "warmup": warmup,
        "chat_turn": phase.summary(),
        "worker_kills": server.kills_since(mark),
        "sessions_reused": any(plan.sessions_reused for plan in plans),
        "stored": messages_stored_check(_sends(plans)),
        "stored_warmup": messages_stored_check(_sends(warm_plans)),
        "replies": replies_provenance(_session_ids(plans)),
    }


# -- 3a. Redis stopped: the crisis path ---------------------------------------------------------
def redis_outage(
    *, messages: int, users: int, workers: int, threads: int, redis: PrivateRedis, tmp: Path
) -> dict:
    """gunicorn on the private Redis with an on-call address and e-mails written to files; the
    Redis is stopped and ``messages`` high-risk messages are sent, one at a time, each in a new
    session. Then the Redis is started again and the escalation e-mails swept (the beat task's
    service, ``notifications_dispatch``, run here for these escalations, twice: the second must
    find nothing); each notification row must have gone out exactly once."""
    from django.test import override_settings

    from conversations.services.crisis import notifications_dispatch

    mail_dir = tmp / "mail"
    mail_dir.mkdir()
    warm_plans = http_users("redis_warm", users, WARMUP_S)
    username = f"{BENCH_PREFIX}crisis"
    headers = _token_headers(username)
    session_ids = _sessions(username, messages)
    connection.close()
    server = Gunicorn(
        workers=workers,
        threads=threads,
        env={
            "REDIS_URL": redis.url,
            "ONCALL_EMAILS": ONCALL_EMAIL,
            "EMAIL_BACKEND": FILE_EMAIL_BACKEND,
            "EMAIL_FILE_PATH": str(mail_dir),
        },
        log_path=tmp / "gunicorn-redis.log",
    )
    answers = []
    warmup = _no_warmup()
    try:
        server.start()
        warmup = warm_up(server.port, warm_plans)  # Redis still up
        mark = server.log_mark()
        redis.stop()
        for k, session_id in enumerate(session_ids):
            status, ms, body = post_json(
                server.port,
                CHAT_PATH.format(session_id),
                {"text": HIGH_RISK_MESSAGE},
                {**headers, "Idempotency-Key": f"crisis-{k}"},
            )
            reply = body.get("reply") or {}
            answers.append((status, ms, bool(reply.get("emergency")), bool(reply.get("resources"))))
    finally:
        server.stop()
        redis.stop()
    before = notifications_state(session_ids)
    emails_before = len(emails_read(mail_dir))
    redis.start()
    with override_settings(EMAIL_BACKEND=FILE_EMAIL_BACKEND, EMAIL_FILE_PATH=str(mail_dir)):
        escalation_ids = _escalation_ids(session_ids)
        swept = sum(notifications_dispatch(escalation_id=e).sent for e in escalation_ids)
        swept_again = sum(notifications_dispatch(escalation_id=e).sent for e in escalation_ids)
    latencies = [ms for _, ms, _, _ in answers]
    return {
        "server": server.description,
        "messages": messages,
        "answered_201": sum(1 for status, *_ in answers if status == "201"),
        "emergency_replies": sum(1 for _, _, emergency, _ in answers if emergency),
        "with_crisis_resources": sum(1 for *_, resources in answers if resources),
        "latency": summary(latencies),
        "warmup": warmup,
        "worker_kills": server.kills_since(mark),
        "stored": messages_stored_check(
            [(session_id, f"crisis-{k}") for k, session_id in enumerate(session_ids)]
        ),
        "while_redis_down": {**before, "emails": emails_before},
        "sweep": {"sent": swept, "sent_by_a_second_sweep": swept_again},
        "after_sweep": notifications_state(session_ids),
        "notifications": notifications_sent_once(session_ids, emails_read(mail_dir)),
    }


def _escalation_ids(session_ids: list[str]) -> list[int]:
    from conversations.models import Escalation

    return list(
        Escalation.objects.filter(session__public_id__in=session_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# -- 3b. the LLM hangs or drips -----------------------------------------------------------------
LLM_PHASES: dict[str, dict[str, Any]] = {  # name: the loopback server's behaviour
    "baseline": {"mode": "stream"},  # healthy: answers at once
    "hang": {"mode": "hang", "delay": 3600.0},  # reads the request, then says nothing
    "drip": {"mode": "drip", "drip_interval": 1.0, "drip_for": 3600.0},  # 1 byte a second
}


def llm_faults(
    *,
    users: int,
    duration: float,
    deadline: float,
    workers: int,
    threads: int,
    redis: PrivateRedis,
    tmp: Path,
) -> dict:
    """One gunicorn with ``ARI_GENERATOR=openai`` against the loopback OpenAI-compatible server
    and the generation deadline ``deadline``; ``users`` users for ``duration`` seconds while the
    server is healthy, then hanging, then dripping. The circuit breakers live in the private
    Redis, emptied before each phase, so each starts closed."""
    # The project's protocol double of an OpenAI-compatible server (tests/conversations/), the
    # one the generation fault tests use: imported here only, never by the request path.
    from tests.conversations.openai_server import OpenAICompatibleServer

    plans = {name: http_users(f"llm_{name}", users, duration) for name in LLM_PHASES}
    warm_plans = http_users("llm_warm", users, WARMUP_S)
    connection.close()
    llm = OpenAICompatibleServer().start()
    llm.configure(mode="stream")
    server = Gunicorn(
        workers=workers,
        threads=threads,
        env={
            "REDIS_URL": redis.url,
            "ARI_GENERATOR": "openai",
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "",
            "ARI_GENERATION_DEADLINE_S": str(deadline),
        },
        log_path=tmp / "gunicorn-llm.log",
    )
    phases: dict[str, dict] = {}
    warmup = _no_warmup()
    try:
        server.start()
        warmup = warm_up(server.port, warm_plans)
        for name, behaviour in LLM_PHASES.items():
            redis.flush()
            llm.configure(**behaviour)
            mark, calls = server.log_mark(), len(llm.requests)
            phase = load_run(server.port, plans[name], duration)
            phases[name] = {
                **phase.summary(),
                "llm_calls": len(llm.requests) - calls,
                "worker_kills": server.kills_since(mark),
            }
    finally:
        server.stop()
        llm.stop()
    baseline_p95 = phases.get("baseline", {}).get("p95_ms")
    for name, results in phases.items():
        results["stored"] = messages_stored_check(_sends(plans[name]))
        results["replies"] = replies_provenance(_session_ids(plans[name]))
        p95 = results["p95_ms"]
        results["p95_vs_baseline"] = (
            round(p95 / baseline_p95, 3) if p95 is not None and baseline_p95 else None
        )
    return {
        "server": server.description,
        "users": users,
        "duration_s": duration,
        "deadline_s": deadline,
        "warmup": warmup,
        "phases": phases,
    }
