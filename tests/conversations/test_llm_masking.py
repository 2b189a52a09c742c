"""Text sent to an LLM server is masked unless that server is trusted (docs/privacy.md): checked
on what a real OpenAI-compatible server on loopback receives, for the ``openai`` generator, the
safety judge and a whole chat turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ari_review.privacy.masking import mask_text
from conversations.backends import safety_judge
from conversations.backends.base import GenerationRequest
from conversations.backends.generation.openai_compat import OpenAICompatibleGenerator
from conversations.models import Message
from conversations.services import chat_turn_run
from conversations.services.warmup import models_warm
from tests.conversations.openai_server import OpenAICompatibleServer

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "sam.lee@example.com"
PHONE = "0176 12345678"
USER_TEXT = f"I feel alone. My name is Sam, you can reach me at {EMAIL} or {PHONE}."
HISTORY = (("user", "my site is https://sam.example.com/blog"), ("assistant", "Thank you."))
SUMMARY = f"Last time they shared {EMAIL}."
PERSONAL = (EMAIL, PHONE, "12345678", "Sam", "sam.example.com")


@pytest.fixture
def llm_server():
    server = OpenAICompatibleServer().start()
    yield server
    server.stop()


def _request() -> GenerationRequest:
    return GenerationRequest(
        user_text=USER_TEXT,
        session_type="check_in",
        flow_step="",
        persona="You are Ari, a gentle coach.",
        history=HISTORY,
        preferences={},
        previous_summary=SUMMARY,
        risk_level="none",
    )


def _generator(server, **kwargs) -> OpenAICompatibleGenerator:
    options = {"base_url": server.base_url, "model": "m", "timeout": 5, "max_retries": 0}
    return OpenAICompatibleGenerator(stream=False, **options, **kwargs)


def _sent(server) -> str:
    (request,) = server.requests
    return json.dumps(request["body"]["messages"], ensure_ascii=False)


def test_an_untrusted_server_never_receives_personal_details(llm_server, settings):
    assert settings.OPENAI_TRUSTED is False  # the default

    reply = _generator(llm_server).generate(_request())

    assert reply.text == llm_server.reply
    sent = _sent(llm_server)
    for detail in PERSONAL:
        assert detail not in sent, detail
    messages = llm_server.requests[0]["body"]["messages"]
    assert messages[-1] == {"role": "user", "content": mask_text(USER_TEXT)}
    assert messages[1]["content"] == mask_text(HISTORY[0][1])
    assert mask_text(SUMMARY) in messages[0]["content"]  # the summary in the system prompt too
    # The rest of the system prompt (persona, instructions) is staff-written: sent as it is.
    assert messages[0]["content"].startswith("You are Ari, a gentle coach.\n\nSession type:")


def test_a_trusted_server_receives_the_text_as_written(llm_server, settings):
    settings.OPENAI_TRUSTED = True

    _generator(llm_server).generate(_request())

    messages = llm_server.requests[0]["body"]["messages"]
    assert messages[-1]["content"] == USER_TEXT
    assert SUMMARY in messages[0]["content"]


def test_trust_given_to_the_client_overrides_the_setting(llm_server, settings):
    settings.OPENAI_TRUSTED = True
    _generator(llm_server, trusted=False).generate(_request())
    assert EMAIL not in _sent(llm_server)


@pytest.fixture
def judge_server(settings):
    server = OpenAICompatibleServer().start()
    server.configure(reply="medium")
    settings.ARI_SAFETY_JUDGE_URL = server.base_url
    settings.ARI_SAFETY_JUDGE_TIMEOUT = 2.0
    yield server
    server.stop()


def test_the_safety_judge_gets_masked_text_unless_trusted(judge_server, settings):
    outcome = safety_judge.ask_judge(USER_TEXT, history=[f"call me on {PHONE}"])

    assert outcome.verdict == "medium"
    sent = _sent(judge_server)
    for detail in PERSONAL:
        assert detail not in sent, detail
    assert "[email]" in sent and "[phone]" in sent

    settings.ARI_SAFETY_JUDGE_TRUSTED = True
    judge_server.requests.clear()
    safety_judge.ask_judge(USER_TEXT, history=[f"call me on {PHONE}"])
    assert EMAIL in _sent(judge_server) and PHONE in _sent(judge_server)


def test_a_chat_turn_stores_the_users_words_but_sends_the_llm_a_masked_copy(
    chat_ready, session, settings, llm_server
):
    settings.ARI_GENERATOR = "openai"
    settings.OPENAI_BASE_URL = llm_server.base_url
    settings.OPENAI_STREAM = False
    text = f"Work has been rough this week. Write to me at {EMAIL}."

    result = chat_turn_run(session=session, text=text)

    assert result.reply.provenance["backend"] == "openai"
    assert Message.objects.get(pk=result.user_message.pk).text == text  # the user's own copy
    sent = _sent(llm_server)
    assert EMAIL not in sent
    assert json.dumps(mask_text(text)) in sent


def _settings_in_subprocess(**env) -> list[bool]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": "sqlite:///var/settings-check.sqlite3",
        **env,
    }
    code = (
        "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE']='ari_review.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.OPENAI_TRUSTED, s.ARI_SAFETY_JUDGE_TRUSTED]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_trust_settings_default_to_ari_llm_trusted():
    assert _settings_in_subprocess() == [False, False]
    assert _settings_in_subprocess(ARI_LLM_TRUSTED="1") == [True, True]
    assert _settings_in_subprocess(ARI_LLM_TRUSTED="1", ARI_SAFETY_JUDGE_TRUSTED="0") == [
        True,
        False,
    ]
    assert _settings_in_subprocess(OPENAI_TRUSTED="yes") == [True, False]


def test_the_warm_up_loads_the_masking_models_only_when_an_untrusted_server_is_used(db, settings):
    assert "llm_masking" not in models_warm()  # the tests' generator: approved content

    settings.ARI_GENERATOR = "openai"
    assert isinstance(models_warm()["llm_masking"], float)

    settings.OPENAI_TRUSTED = True
    assert "llm_masking" not in models_warm()
    settings.ARI_SAFETY_JUDGE_URL = "http://127.0.0.1:9/v1"
    assert "llm_masking" in models_warm()


def test_the_users_own_words_in_the_system_prompt_are_masked_for_an_untrusted_server(
    llm_server, settings
):
    """The prompt carries the user's key phrase (turned to the second person): masked too."""
    text = "I really miss my sister Maria since she moved to Lisbon last spring."
    request = GenerationRequest(
        user_text=text, session_type="check_in", flow_step="reflect", persona="You are Ari."
    )
    _generator(llm_server).generate(request)
    untrusted = llm_server.requests[-1]["body"]["messages"][0]["content"]
    assert "Reflect their situation in their own words" in untrusted
    assert "Maria" not in untrusted and "Lisbon" not in untrusted

    _generator(llm_server, trusted=True).generate(request)
    trusted = llm_server.requests[-1]["body"]["messages"][0]["content"]
    assert "your sister Maria" in trusted
