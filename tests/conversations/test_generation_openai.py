"""The ``openai`` backend against an OpenAI-compatible server running on loopback."""

from __future__ import annotations

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import GenerationError
from conversations.backends.generation.openai_compat import OpenAICompatibleGenerator
from tests.conversations.openai_server import OpenAICompatibleServer


@pytest.fixture
def llm_server():
    server = OpenAICompatibleServer().start()
    yield server
    server.stop()


def make_request(**overrides) -> GenerationRequest:
    fields = {
        "user_text": "I keep feeling like I'm not good enough.",
        "session_type": "gentle_deep",
        "flow_step": "validate",
        "persona": "You are Ari, a gentle coach.",
        "history": (("user", "hi"), ("assistant", "Hi, I'm glad you're here.")),
        "preferences": {"session_length": "short", "tone": "warm"},
        "previous_summary": "Last time: a check-in about work.",
        "risk_level": "none",
    }
    fields.update(overrides)
    return GenerationRequest(**fields)


def generator(server, **kwargs) -> OpenAICompatibleGenerator:
    options = {
        "base_url": server.base_url,
        "model": "tiny-test-model",
        "api_key": "sk-test",
        "timeout": 5,
        "max_retries": 0,
        "stream": False,
    }
    options.update(kwargs)
    return OpenAICompatibleGenerator(**options)


def test_plain_completion_speaks_the_chat_completions_protocol(llm_server):
    reply = generator(llm_server).generate(make_request())

    assert reply.text == llm_server.reply
    assert reply.backend == "openai"
    assert reply.model == "tiny-test-model"
    (request,) = llm_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "tiny-test-model"
    assert body["stream"] is False
    system, *middle, last = body["messages"]
    assert system["role"] == "system"
    assert "You are Ari" in system["content"]
    assert "Current step: validate" in system["content"]
    assert "Last time: a check-in about work." in system["content"]
    assert "2 sentences" in system["content"]  # the user's short-length preference
    assert [m["role"] for m in middle] == ["user", "assistant"]
    assert last == {"role": "user", "content": "I keep feeling like I'm not good enough."}


def test_streamed_reply_is_assembled_from_server_sent_events(llm_server):
    llm_server.configure(mode="stream")
    reply = generator(llm_server, stream=True).generate(make_request())

    assert reply.text == llm_server.reply
    request = llm_server.requests[0]
    assert request["body"]["stream"] is True
    assert request["headers"]["Accept"] == "text/event-stream"
    assert reply.details["stream"] is True


def test_medium_risk_asks_the_model_for_a_safety_check(llm_server):
    generator(llm_server).generate(make_request(risk_level="medium"))
    system = llm_server.requests[0]["body"]["messages"][0]["content"]
    assert "gentle question about safety" in system


def test_slow_server_times_out(llm_server):
    llm_server.configure(mode="slow", delay=3.0)
    with pytest.raises(GenerationError) as error:
        generator(llm_server, timeout=0.5).generate(make_request())
    assert error.value.reason == "timeout"


def test_stream_that_stalls_mid_reply_times_out(llm_server):
    llm_server.configure(mode="stall", delay=3.0)
    with pytest.raises(GenerationError) as error:
        generator(llm_server, timeout=0.5, stream=True).generate(make_request())
    assert error.value.reason == "timeout"


def test_server_error_is_retried_then_reported(llm_server):
    llm_server.configure(mode="error500")
    with pytest.raises(GenerationError) as error:
        generator(llm_server, max_retries=2).generate(make_request())
    assert error.value.reason == "http_500"
    assert len(llm_server.requests) == 3  # the first try and two retries


def test_a_retry_recovers_from_one_server_error(llm_server):
    llm_server.configure(mode="flaky")
    reply = generator(llm_server, max_retries=1).generate(make_request())
    assert reply.text == llm_server.reply
    assert reply.details["attempts"] == 2


def test_connection_refused_is_a_generation_error():
    server = OpenAICompatibleServer()
    url = server.base_url
    server.stop()  # nothing listens on that port any more
    gen = OpenAICompatibleGenerator(base_url=url, model="m", api_key="", timeout=2, max_retries=0)
    with pytest.raises(GenerationError) as error:
        gen.generate(make_request())
    assert error.value.reason.startswith("connection_error")


def test_unreadable_answer_is_a_generation_error(llm_server):
    llm_server.configure(mode="bad_json")
    with pytest.raises(GenerationError) as error:
        generator(llm_server).generate(make_request())
    assert error.value.reason == "bad_response"


def test_empty_answer_is_a_generation_error(llm_server):
    llm_server.configure(reply="   ")
    with pytest.raises(GenerationError) as error:
        generator(llm_server).generate(make_request())
    assert error.value.reason == "empty_reply"
