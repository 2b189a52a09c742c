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
