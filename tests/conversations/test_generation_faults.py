"""A chat turn cannot hang on, or show a fragment of, a misbehaving LLM server (issue #13).

Every fault is played by a real HTTP server on loopback (tests/conversations/openai_server.py):
it hangs after accepting, drips a byte a second, closes mid-stream, answers 500 or malformed
JSON, or stops at the token limit. Each time the whole chat turn returns within the generation
deadline plus a second, with the complete approved fallback and the reason recorded, and the
fragment stored nowhere. Then the circuit breaker: it opens after N failures (the server is no
longer called), lets one trial through after the cool-down, and closes on success; /healthz and
the admin show it.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.core.cache import cache
from django.test import Client

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import (
    GenerationError,
    generation_run,
    generators_reset,
    get_fallback_generator,
    get_generator,
)
from conversations.backends.generation.breaker import breaker_key, breaker_states
from conversations.backends.generation.openai_compat import OpenAICompatibleGenerator
from conversations.models import Message
from conversations.services import chat_turn_run, session_create
from evaluation.models import SeedDialogue
from tests.conversations.openai_server import OpenAICompatibleServer

DEADLINE = 1.5
MARGIN = 1.0  # what the rest of a turn (safety, filter, storing) may add to the deadline
NEUTRAL = "I keep feeling like I'm not good enough at work."
MARK = "Zq7"  # in every reply the server sends: must never reach a stored message
REPLY = f"{MARK} please never stop taking your medication without talking to your doctor first."
REQUEST = GenerationRequest(
    user_text="hi", session_type="gentle_deep", flow_step="validate", persona="You are Ari."
)


def approved_texts() -> set[str]:
    texts = set()
    for d in SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED):
        texts |= {m["content"] for m in d.messages if m["role"] == "assistant"}
    return texts


@pytest.fixture
def llm(chat_ready, enduser, settings):
    """The ``openai`` backend pointed at a loopback server, with a short deadline; one approved
    turn first, so that loading the classifiers is not counted against a faulty turn."""
    chat_turn_run(session=session_create(user=enduser, session_type="gentle_deep"), text="Hi")
    server = OpenAICompatibleServer().start()
    server.configure(reply=REPLY, delay=10.0, drip_for=10.0)
    settings.ARI_GENERATOR = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_MODEL = "tiny-test-model"
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_STREAM = True
    settings.ARI_GENERATION_DEADLINE_S = DEADLINE
    settings.ARI_GENERATION_BREAKER_FAILURES = 3
    settings.ARI_GENERATION_BREAKER_COOLDOWN_S = 30
    generators_reset()
    yield server
    server.stop()


def timed_turn(session, text: str = NEUTRAL):
    started = time.monotonic()
    result = chat_turn_run(session=session, text=text)
    return result.reply, time.monotonic() - started


def assert_whole_fallback(reply, reason: str) -> None:
    assert reply.provenance["backend"] == "approved"
    assert reply.provenance["fallback_from"] == "openai"
    assert reply.provenance["fallback_reason"] == reason
    # A complete approved reply, as the approved backend gave it (before the response filter,
    # which may add a validation), never a piece of the server's answer.
    assert reply.provenance.get("unfiltered_text", reply.text) in approved_texts()
    assert MARK not in reply.text
    assert MARK not in json.dumps(reply.provenance)
    assert not Message.objects.filter(text__contains=MARK).exists()


# --- Faults: the turn is bounded, and the reply whole -------------------------------------------


def test_a_whole_stream_is_used(llm, session):
    """The setup can produce an openai reply: the fallbacks below are the faults' doing."""
    llm.configure(mode="stream", reply="That sounds heavy. What feels most important right now?")
    reply, _ = timed_turn(session)
    assert reply.provenance["backend"] == "openai"
    assert "fallback_reason" not in reply.provenance
    assert reply.text == "That sounds heavy. What feels most important right now?"


@pytest.mark.parametrize(
    ("configure", "stream", "reason"),
    [
        ({"mode": "hang"}, True, "timeout"),
        ({"mode": "drip", "drip_interval": 1.0}, True, "timeout"),
        ({"mode": "drip_headers", "drip_interval": 1.0}, True, "timeout"),
        ({"mode": "cut", "cut_after": 4}, True, "incomplete_stream"),
        ({"mode": "error500"}, True, "http_500"),
        ({"mode": "bad_json"}, True, "bad_response"),
        ({"mode": "bad_stream"}, True, "bad_stream"),
        ({"mode": "stream", "finish_reason": "length"}, True, "truncated"),
        ({"mode": "json", "finish_reason": "length"}, False, "truncated"),
    ],
    ids=[
        "hangs-after-accepting",
        "drips-a-byte-a-second",
        "drips-the-headers",
        "closes-mid-stream",
        "answers-500",
        "answers-malformed-json",
        "streams-malformed-json",
        "stream-stops-at-token-limit",
        "reply-stops-at-token-limit",
    ],
)
def test_a_faulty_server_costs_at_most_the_deadline_and_never_a_fragment(
    llm, session, settings, configure, stream, reason
):
    settings.OPENAI_STREAM = stream
    generators_reset()
    llm.configure(**configure)

    reply, elapsed = timed_turn(session)

    assert elapsed < DEADLINE + MARGIN, f"the turn took {elapsed:.2f}s"
    assert len(llm.requests) == 1
    assert_whole_fallback(reply, reason)


def test_retries_stay_within_the_deadline(llm, session, settings):
    settings.OPENAI_MAX_RETRIES = 50  # more than the deadline can hold
    generators_reset()
    llm.configure(mode="error500")

    reply, elapsed = timed_turn(session)

    assert elapsed < DEADLINE + MARGIN
    assert 1 < len(llm.requests) < 50
    assert_whole_fallback(reply, "http_500")


def test_a_deadline_of_its_own_cuts_a_dripping_server_off():
    """The backend alone, as the safety judge calls it: its own timeout is a wall-clock bound."""
    server = OpenAICompatibleServer().start()
    server.configure(mode="drip", drip_interval=0.2, drip_for=10.0, reply=REPLY)
    client = OpenAICompatibleGenerator(
        base_url=server.base_url, model="m", api_key="", timeout=1.0, max_retries=0, stream=True
    )
    started = time.monotonic()
    try:
        with pytest.raises(GenerationError) as error:
            client.complete([{"role": "user", "content": "hi"}], temperature=0.0)
    finally:
        server.stop()
    assert error.value.reason == "timeout"
    assert time.monotonic() - started < 1.0 + MARGIN


def test_the_safety_judge_may_read_an_answer_cut_at_its_token_limit():
    """``complete`` without ``require_finished`` (the judge reads the first word of a five-token
    answer) returns a reply stopped by the token limit; a chat reply is refused (above)."""
    server = OpenAICompatibleServer().start()
    server.configure(reply="high risk because", finish_reason="length")
    client = OpenAICompatibleGenerator(
        base_url=server.base_url, model="m", api_key="", timeout=2, max_retries=0, stream=False
    )
    try:
        text, _ = client.complete([{"role": "user", "content": "hi"}], temperature=0.0)
        with pytest.raises(GenerationError) as error:
            client.complete(
                [{"role": "user", "content": "hi"}], temperature=0.0, require_finished=True
            )
    finally:
        server.stop()
    assert text == "high risk because"
    assert error.value.reason == "truncated"


# --- The circuit breaker ------------------------------------------------------------------------


def openai_state() -> dict:
    (state,) = [s for s in breaker_states() if s["backend"] == "openai"]
    return state


def trip(llm, session, failures: int = 3) -> None:
    llm.configure(mode="error500")
    for _ in range(failures):
        reply, _ = timed_turn(session)
        assert reply.provenance["fallback_reason"] == "http_500"


def test_failures_open_the_breaker_and_the_server_is_no_longer_called(llm, session):
    assert openai_state()["state"] == "closed"
    trip(llm, session)
    assert len(llm.requests) == 3
    state = openai_state()
    assert state["state"] == "open" and state["failures"] == 3
    assert state["opened_at"] and state["retry_at"]

    llm.configure(mode="stream")  # healthy again, but the breaker has not cooled down
    reply, elapsed = timed_turn(session)

    assert len(llm.requests) == 3  # not called
    assert_whole_fallback(reply, "circuit_open")
    assert elapsed < DEADLINE + MARGIN


def test_after_the_cool_down_one_trial_goes_through_and_success_closes(llm, session, settings):
    settings.ARI_GENERATION_BREAKER_COOLDOWN_S = 1
    trip(llm, session)
    llm.configure(mode="stream", reply="That sounds heavy. What feels most important right now?")
    time.sleep(1.2)
    assert openai_state()["state"] == "half_open"

    reply, _ = timed_turn(session)

    assert len(llm.requests) == 4  # the trial
    assert reply.provenance["backend"] == "openai"
    state = openai_state()
    assert state["state"] == "closed" and state["failures"] == 0
    timed_turn(session)
    assert len(llm.requests) == 5  # closed: every call goes through again


def test_a_failed_trial_opens_the_breaker_again(llm, session, settings):
    settings.ARI_GENERATION_BREAKER_COOLDOWN_S = 1
    trip(llm, session)
    time.sleep(1.2)

    trial, _ = timed_turn(session)  # the server still fails
    refused, _ = timed_turn(session)

    assert len(llm.requests) == 4  # the trial only
    assert trial.provenance["fallback_reason"] == "http_500"
    assert refused.provenance["fallback_reason"] == "circuit_open"
    assert openai_state()["state"] == "open"


def test_while_half_open_only_one_trial_is_in_flight(llm, session, settings):
    settings.ARI_GENERATION_BREAKER_COOLDOWN_S = 1
    trip(llm, session)
    llm.configure(mode="hang")
    time.sleep(1.2)
    generator = get_generator()
    outcome = {}

    def trial():
        try:
            generation_run(generator, REQUEST)
        except GenerationError as exc:
            outcome["reason"] = exc.reason

    thread = threading.Thread(target=trial)
    thread.start()
    while len(llm.requests) < 4:  # the trial reached the server, which now hangs
        time.sleep(0.02)
    with pytest.raises(GenerationError) as error:
        generation_run(generator, REQUEST)
    thread.join(DEADLINE + MARGIN)

    assert error.value.reason == "circuit_open"
    assert outcome == {"reason": "timeout"}
    assert len(llm.requests) == 4


def test_the_approved_fallback_has_no_breaker(llm, session):
    """Even a breaker state recorded under approved's name (it never fails) cannot stop it."""
    approved = get_fallback_generator()
    key = breaker_key(approved)
    cache.set(key.failures_key, 99)
    cache.set(key.opened_key, time.time())

    reply = generation_run(approved, REQUEST)

    assert reply.backend == "approved" and reply.text
    trip(llm, session)  # and with openai's breaker open, turns still get approved replies
    reply, _ = timed_turn(session)
    assert_whole_fallback(reply, "circuit_open")


def test_healthz_reports_a_tripped_breaker_as_degraded_but_serving(llm, session, client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["generation"]["ok"] is True
    assert [b["state"] for b in body["generation"]["breakers"]] == ["closed"]

    trip(llm, session)
    response = client.get("/healthz")

    assert response.status_code == 200  # approved content still serves
    body = response.json()
    assert body["status"] == "degraded"
    assert body["generation"]["ok"] is False
    (breaker,) = body["generation"]["breakers"]
    assert breaker["backend"] == "openai" and breaker["model"] == "tiny-test-model"
    assert breaker["state"] == "open" and breaker["failures"] == 3
    assert llm.base_url not in response.content.decode()  # no internal address on a public page


def test_admin_shows_the_breakers_and_an_admin_resets_them(llm, session, admin_user, clinician):
    trip(llm, session)
    api, other = Client(), Client()
    api.force_login(admin_user)
    other.force_login(clinician)

    page = api.get("/admin/conversations/chatsession/generation/")
    assert page.status_code == 200
    assert b"open" in page.content and b"tiny-test-model" in page.content
    changelist = api.get("/admin/conversations/chatsession/")
    assert b"/admin/conversations/chatsession/generation/" in changelist.content

    assert other.post(
        "/admin/conversations/chatsession/generation/", {"reset": "all"}
    ).status_code in (302, 403)  # clinicians are not staff: the admin sends them to log in
    assert openai_state()["state"] == "open"

    reset = api.post(
        "/admin/conversations/chatsession/generation/", {"reset": openai_state()["id"]}
    )
    assert reset.status_code == 302
    assert openai_state()["state"] == "closed"
    llm.configure(mode="stream", reply="That sounds heavy. What feels most important right now?")
    reply, _ = timed_turn(session)
    assert reply.provenance["backend"] == "openai"
