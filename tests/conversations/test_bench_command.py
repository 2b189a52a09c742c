"""The benchmark command runs end to end and writes its JSON (its numbers are not asserted)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management import call_command

from conversations.models import ChatSession


def test_bench_chat_writes_its_table_and_json(chat_ready, tmp_path, capsys):
    output = tmp_path / "chat.json"
    call_command("bench_chat", "--skip-http", "--turns", "5", "--output", str(output))

    printed = capsys.readouterr().out
    assert "one turn (all)" in printed
    assert "target in_process_p95_ms<=50" in printed
    results = json.loads(output.read_text())
    assert results["in_process"]["turn"]["n"] == 5
    assert {"p50_ms", "p95_ms", "p99_ms"} <= set(results["in_process"]["turn"])
    assert "http" not in results
    # The benchmark cleans up after itself.
    assert not get_user_model().objects.filter(username__startswith="bench_chat_").exists()
    assert not ChatSession.objects.exists()


def test_http_users_start_a_new_session_every_ten_messages_and_never_replay_a_key():
    from conversations.management.commands.bench_chat import (
        MESSAGES,
        TURNS_PER_SESSION,
        _ChatPlan,
    )

    plan = _ChatPlan(3, ["s0", "s1"], {"Authorization": "Token t"})
    requests = [plan.next_request() for _ in range(2 * TURNS_PER_SESSION)]

    paths = [path for _, path, _, _ in requests]
    assert (
        paths
        == ["/api/v1/sessions/s0/messages/"] * TURNS_PER_SESSION
        + ["/api/v1/sessions/s1/messages/"] * TURNS_PER_SESSION
    )
    keys = [headers["Idempotency-Key"] for _, _, _, headers in requests]
    assert len(set(keys)) == len(keys)
    assert json.loads(requests[0][2]) == {"text": MESSAGES[3]}
    assert requests[0][3]["Content-Type"] == "application/json"
    assert not plan.sessions_reused
    plan.next_request()  # a third conversation: only two sessions were made
    assert plan.sessions_reused


def test_floor_users_post_to_the_floor_endpoint_of_their_own_sessions():
    from conversations.management.commands.bench_chat import FLOOR_PHASES, _ChatPlan

    plan = _ChatPlan(0, ["s9"], {}, FLOOR_PHASES["floor_writes_models"][0])
    method, path, _, _ = plan.next_request()
    assert (method, path) == ("POST", "/api/v1/bench/floor/s9/?models=1")


def test_alternating_rounds_are_merged_into_one_figure_per_endpoint():
    from conversations.management.commands.bench_chat import _Phase, _ratio

    pings = [_Phase([1.0] * 400, 0, 2.0), _Phase([2.0] * 200, 1, 2.0)]
    chats = [_Phase([5.0] * 100, 0, 2.0), _Phase([6.0] * 100, 0, 2.0)]
    ping, chat = _Phase.merge(pings), _Phase.merge(chats)

    assert ping.summary()["requests"] == 600 and ping.summary()["errors"] == 1
    assert ping.requests_per_s == 150.0 and chat.requests_per_s == 50.0
    assert _ratio(chat, ping) == 0.333
    assert [_ratio(c, p) for c, p in zip(chats, pings, strict=True)] == [0.25, 0.5]
    assert _ratio(chat, _Phase([], 0, 0.0)) is None
