"""A server process loads the chat turn's models before the first person arrives."""

from __future__ import annotations

import threading
import time

from conversations.models import Intent, RiskLevel
from conversations.services.pipeline import chat_turn_run
from conversations.services.warmup import models_ready, models_warm, models_warm_in_background


def test_models_warm_loads_every_model_and_never_raises(chat_ready):
    timings = models_warm()
    assert set(timings) == {"safety", "intent", "exemplars"}
    assert all(isinstance(ms, float) for ms in timings.values()), timings


def test_models_warm_reports_what_is_missing_instead_of_failing(db):
    timings = models_warm()  # no active model in this database
    assert str(timings["safety"]).startswith("error:")


def test_a_high_risk_turn_during_the_warm_up_gets_the_emergency_reply_without_waiting(
    chat_ready, session, settings
):
    """While a fresh server still loads the safety model, the rule net decides after
    ARI_SAFETY_WARM_WAIT_S: the emergency reply comes at once, and the turn says why."""
    settings.ARI_SAFETY_WARM_WAIT_S = 0.2
    loading = threading.Event()
    release = threading.Event()

    def slow_load():
        loading.set()
        release.wait(30)

    thread = models_warm_in_background({"safety": slow_load})
    try:
        assert loading.wait(5)
        assert not models_ready(0)
        start = time.monotonic()
        result = chat_turn_run(session=session, text="I want to end my life tonight")
        elapsed = time.monotonic() - start
    finally:
        release.set()
        thread.join(5)
    assert result.reply.intent == Intent.EMERGENCY
    assert result.user_message.risk_level == RiskLevel.HIGH
    assert result.reply.provenance["safety_error"] == "warming_up"
    assert elapsed < 5, elapsed  # not the 30 s the load would have taken
    assert models_ready(0)


def test_a_turn_after_the_warm_up_uses_the_model(chat_ready, session):
    models_warm_in_background({}).join(5)
    result = chat_turn_run(session=session, text="I want to end my life tonight")
    assert "safety_error" not in result.reply.provenance
    assert result.user_message.risk_level == RiskLevel.HIGH
