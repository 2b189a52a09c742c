"""A server process loads the chat turn's models before the first person arrives."""

from __future__ import annotations

from conversations.services.warmup import models_warm


def test_models_warm_loads_every_model_and_never_raises(chat_ready):
    timings = models_warm()
    assert set(timings) == {"safety", "intent", "exemplars"}
    assert all(isinstance(ms, float) for ms in timings.values()), timings


def test_models_warm_reports_what_is_missing_instead_of_failing(db):
    timings = models_warm()  # no active model in this database
    assert str(timings["safety"]).startswith("error:")
