"""The ``transformers`` backend with a tiny causal LM built from a config inside the test."""

from __future__ import annotations

import importlib.util

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import GenerationError
from conversations.backends.generation.local_transformers import (
    TransformersGenerator,
    loaded_models_reset,
)
from tests.conversations.tiny_lm import CORPUS, build_tiny_lm


@pytest.fixture(scope="module")
def tiny_lm_dir(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(autouse=True)
def _fresh_models():
    loaded_models_reset()
    yield
    loaded_models_reset()


REQUEST = GenerationRequest(
    user_text="I feel heavy today",
    session_type="check_in",
    flow_step="mood",
    persona="You are Ari, a gentle coach.",
    history=(("user", "hi"), ("assistant", "Hi, how are you arriving today?")),
)


def test_tiny_model_writes_a_reply_from_its_vocabulary(tiny_lm_dir):
    reply = TransformersGenerator(model_dir=str(tiny_lm_dir), max_new_tokens=6).generate(REQUEST)

    assert reply.backend == "transformers"
    assert reply.model == tiny_lm_dir.name
    vocabulary = {word for line in CORPUS for word in line.split()}
    words = reply.text.split()
    assert 1 <= len(words) <= 6
    assert set(words) <= vocabulary
    assert reply.details["new_tokens"] <= 6


def test_greedy_decoding_is_deterministic(tiny_lm_dir):
    generator = TransformersGenerator(model_dir=str(tiny_lm_dir), max_new_tokens=5)
    assert generator.generate(REQUEST).text == generator.generate(REQUEST).text


def test_model_is_loaded_once_per_process(tiny_lm_dir):
    first = TransformersGenerator(model_dir=str(tiny_lm_dir)).loaded()
    second = TransformersGenerator(model_dir=str(tiny_lm_dir)).loaded()
    assert first is second


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(GenerationError) as error:
        TransformersGenerator(model_dir=str(tmp_path / "nope")).generate(REQUEST)
    assert error.value.reason == "model_missing"
    assert "nope" in str(error.value)


def test_directory_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(GenerationError) as error:
        TransformersGenerator(model_dir=str(tmp_path)).generate(REQUEST)
    assert error.value.reason == "model_load_error"


@pytest.mark.skipif(importlib.util.find_spec("peft") is not None, reason="peft is installed")
def test_adapter_without_peft_installed_is_a_clear_error(tiny_lm_dir, tmp_path):
    generator = TransformersGenerator(model_dir=str(tiny_lm_dir), adapter_dir=str(tmp_path))
    with pytest.raises(GenerationError) as error:
        generator.generate(REQUEST)
    assert error.value.reason == "peft_missing"


def test_chat_turn_with_the_transformers_backend(chat_ready, session, settings, tiny_lm_dir):
    from conversations.services import chat_turn_run

    settings.ARI_GENERATOR = "transformers"
    settings.TRANSFORMERS_MODEL_DIR = str(tiny_lm_dir)
    settings.TRANSFORMERS_MAX_NEW_TOKENS = 6
    reply = chat_turn_run(session=session, text="Hi Ari").reply

    assert reply.provenance["backend"] == "transformers"
    assert reply.model_versions["generator"] == f"transformers:{tiny_lm_dir.name}"
    vocabulary = {word for line in CORPUS for word in line.split()}
    # Whatever the model wrote passed through the filter (which may add its own sentences).
    assert set(reply.provenance.get("unfiltered_text", reply.text).split()) <= vocabulary
