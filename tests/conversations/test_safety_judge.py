"""The optional safety judge, against a real OpenAI-compatible server on loopback: it is asked
only about messages in the possible-risk band, its verdict decides within the band, and on a
timeout, an error or a bad answer the cautious level stands."""

from __future__ import annotations

import time

import pytest

from conversations.backends import safety_judge
from conversations.services.turn.screen import second_opinion
from conversations.services.turn.state import Turn
from tests.conversations.openai_server import OpenAICompatibleServer
from tests.training_jobs.fixtures import FixedRiskModel
from training_jobs.ml.predictors import SafetyPredictor


@pytest.fixture
def judge_server(settings):
    server = OpenAICompatibleServer().start()
    settings.ARI_SAFETY_JUDGE_URL = server.base_url
    settings.ARI_SAFETY_JUDGE_MODEL = "guard-test"
    settings.ARI_SAFETY_JUDGE_TIMEOUT = 0.5
    yield server
    server.stop()


def _screen(p_high: float, text: str = "I don't see the point of next week"):
    predictor = SafetyPredictor(FixedRiskModel(p_high), threshold=0.5, possible=0.2, version="v")
    turn = Turn()
    first = predictor.assess(text, history=["work was awful"])
    return second_opinion(predictor, text, ["work was awful"], first, turn), turn


@pytest.mark.parametrize(
    ("reply", "level"),
    [("high", "high"), ("High.", "high"), ("medium", "medium"), ("none", "none"), ("low", "low")],
)
def test_the_verdict_decides_within_the_band(judge_server, reply, level):
    judge_server.configure(reply=reply)
    assessment, turn = _screen(0.3)
    assert assessment.level == level
    assert turn.provenance["safety_judge"]["reason"] == "ok"
    request = judge_server.requests[-1]["body"]
    assert request["model"] == "guard-test" and request["temperature"] == 0.0
    assert "work was awful" in request["messages"][1]["content"]  # the history goes along


@pytest.mark.parametrize(
    ("mode", "reply", "reason"),
    [
        ("slow", "none", "timeout"),
        ("error500", "none", "http_500"),
        ("json", "I cannot classify this", "unparsable"),
        ("bad_json", "none", "bad_response"),
    ],
)
def test_on_timeout_or_error_the_cautious_level_stands(judge_server, mode, reply, reason):
    judge_server.configure(mode=mode, reply=reply, delay=3.0)
    started = time.perf_counter()
    assessment, turn = _screen(0.3)
    assert time.perf_counter() - started < 2.0  # the strict timeout (0.5 s), no retries
    assert assessment.level == "medium"
    assert turn.provenance["safety_judge"]["reason"] == reason
    assert turn.provenance["safety_judge"]["verdict"] == ""


@pytest.mark.parametrize("p_high", [0.05, 0.9])
def test_the_judge_is_not_asked_outside_the_band(judge_server, p_high):
    assessment, turn = _screen(p_high)
    assert judge_server.requests == []
    assert "safety_judge" not in turn.provenance
    assert assessment.level == ("high" if p_high >= 0.5 else "none")


def test_a_risk_signal_high_is_never_sent_to_the_judge(judge_server):
    judge_server.configure(reply="none")
    assessment, _ = _screen(0.3, text="I took the whole bottle an hour ago")
    assert assessment.level == "high"
    assert judge_server.requests == []


def test_off_by_default(settings):
    settings.ARI_SAFETY_JUDGE_URL = ""
    assessment, turn = _screen(0.3)
    assert assessment.level == "medium" and "safety_judge" not in turn.provenance
    assert not safety_judge.judge_enabled()
