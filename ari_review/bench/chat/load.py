"""Simulated users over HTTP: what they send and the threads that send it."""

from __future__ import annotations

import http.client
import json
import threading
import time

from ari_review.bench.chat.stats import Phase

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
# The message of the crisis-path phase (each in a new session).
HIGH_RISK_MESSAGE = "I want to end my life tonight"
# Each conversation (in-process and over HTTP) is this many messages in one session.
TURNS_PER_SESSION = 10
CHAT_PATH = "/api/v1/sessions/{}/messages/"
CLIENT_TIMEOUT_S = 30


class ChatPlan:
    """One HTTP user's conversations: as in-process, a new session every ``TURNS_PER_SESSION``
    messages (so a high-risk message puts only the rest of its session into safety-check mode),
    and a new Idempotency-Key for every message. The count goes on across the warm-up and the
    measurement, so no message is a replay. Every (session, key) sent is kept in ``sends``."""

    def __init__(self, index: int, session_ids: list[str], headers: dict) -> None:
        self.index = index
        self.session_ids = session_ids
        self.headers = {**headers, "Content-Type": "application/json"}
        self.sends: list[tuple[str, str]] = []

    @property
    def sessions_reused(self) -> bool:
        return len(self.sends) > len(self.session_ids) * TURNS_PER_SESSION

    def next_request(self) -> tuple[str, str, bytes, dict]:
        n = len(self.sends)
        session_id = self.session_ids[(n // TURNS_PER_SESSION) % len(self.session_ids)]
        key = f"bench-{self.index}-{n}"
        self.sends.append((session_id, key))
        body = json.dumps({"text": MESSAGES[(n + self.index) % len(MESSAGES)]}).encode()
        headers = {**self.headers, "Idempotency-Key": key}
        return "POST", CHAT_PATH.format(session_id), body, headers


def load_run(port: int, plans: list[ChatPlan], duration: float, expected: int = 201) -> Phase:
    """One thread per plan, each sending its plan's next request in a loop for ``duration``
    seconds (a request under way when the time is up is finished and counted)."""
    users = len(plans)
    latencies: list[list[float]] = [[] for _ in range(users)]
    statuses: list[dict[str, int]] = [{} for _ in range(users)]
    start_barrier = threading.Barrier(users + 1)
    stop_at = [0.0]

    def worker(index: int) -> None:
        plan = plans[index]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
        start_barrier.wait()
        while time.monotonic() < stop_at[0]:
            method, path, body, headers = plan.next_request()
            begin = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = f"error:{type(exc).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
            latencies[index].append((time.perf_counter() - begin) * 1000)
            statuses[index][status] = statuses[index].get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + duration
    began = time.monotonic()
    start_barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    merged: dict[str, int] = {}
    for per_user in statuses:
        for status, count in per_user.items():
            merged[status] = merged.get(status, 0) + count
    return Phase(
        latencies=[ms for per_user in latencies for ms in per_user],
        errors=sum(count for status, count in merged.items() if status != str(expected)),
        seconds=elapsed,
        statuses=merged,
    )


def post_json(port: int, path: str, payload: dict, headers: dict) -> tuple[str, float, dict]:
    """One POST on a new connection: (status or ``error:<kind>``, latency in ms, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
    body = json.dumps(payload).encode()
    begin = time.perf_counter()
    try:
        conn.request(
            "POST", path, body=body, headers={**headers, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        data = response.read()
        status = str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        status, data = f"error:{type(exc).__name__}", b""
    elapsed = (time.perf_counter() - begin) * 1000
    conn.close()
    try:
        return status, elapsed, json.loads(data or b"{}")
    except ValueError:
        return status, elapsed, {}
