"""The ``transformers`` backend with a tiny causal LM built from a config inside the test."""

from __future__ import annotations

import sys

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import GenerationError
from conversations.backends.generation.local_transformers import (
    TransformersGenerator,
    loaded_models_reset,
)
from tests.conversations.tiny_lm import CORPUS, build_tiny_lm, build_tiny_lora

# An everyday greeting far below every threshold of the test models (the subject here is the
# generator; "Hi Ari" sat on the linear test model's question threshold).
GREETING = "Hello Ari, how are you?"


@pytest.fixture(scope="module")
def tiny_lm_dir(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="module")
def tiny_adapter(tiny_lm_dir, tmp_path_factory):
    """A LoRA adapter on the tiny LM whose weights are perturbed, so it really changes outputs.

    Returns the adapter directory and the adapted model's logits for ``PROBE`` (computed in memory,
    before saving), to check that the backend loads exactly these weights.
    """
    import torch
    from transformers import AutoTokenizer

    directory = tmp_path_factory.mktemp("adapters") / "tiny_lora"
    adapted = build_tiny_lora(tiny_lm_dir, directory)
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir, local_files_only=True)
    with torch.no_grad():
        logits = adapted(**tokenizer(PROBE, return_tensors="pt")).logits
    return directory, logits


@pytest.fixture
def corrupt_adapter(tiny_adapter, tmp_path):
    """An adapter directory whose config is fine but whose weights file is garbage."""
    directory = tmp_path / "corrupt_lora"
    directory.mkdir()
    config = (tiny_adapter[0] / "adapter_config.json").read_text()
    (directory / "adapter_config.json").write_text(config)
    (directory / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    return directory


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
PROBE = "that sounds heavy what feels most important"


def _logits(loaded):
    import torch

    with torch.no_grad():
        return loaded.model(**loaded.tokenizer(PROBE, return_tensors="pt")).logits


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


def test_adapter_without_peft_installed_is_a_clear_error(tiny_lm_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # ``import peft`` now raises ImportError
    generator = TransformersGenerator(model_dir=str(tiny_lm_dir), adapter_dir=str(tmp_path))
    with pytest.raises(GenerationError) as error:
        generator.generate(REQUEST)
    assert error.value.reason == "peft_missing"


def test_lora_adapter_is_loaded_and_changes_the_model(tiny_lm_dir, tiny_adapter):
    import torch

    adapter_dir, expected_logits = tiny_adapter
    base = TransformersGenerator(model_dir=str(tiny_lm_dir), adapter_dir="", max_new_tokens=6)
    adapted = TransformersGenerator(
        model_dir=str(tiny_lm_dir), adapter_dir=str(adapter_dir), max_new_tokens=6
    )

    reply = adapted.generate(REQUEST)

    assert reply.backend == "transformers"
    assert reply.model == f"{tiny_lm_dir.name}+tiny_lora"
    vocabulary = {word for line in CORPUS for word in line.split()}
    assert 1 <= len(reply.text.split()) <= 6
    assert set(reply.text.split()) <= vocabulary
    assert base.generate(REQUEST).model == tiny_lm_dir.name
    adapted_logits, base_logits = _logits(adapted.loaded()), _logits(base.loaded())
    # The adapter was applied (not silently ignored), with exactly the weights that were saved.
    assert not torch.allclose(adapted_logits, base_logits, atol=1e-3)
    assert torch.allclose(adapted_logits, expected_logits, atol=1e-5)
    assert adapted.loaded() is not base.loaded()


def test_loading_and_generating_leaves_autograd_enabled(tiny_lm_dir, tiny_adapter):
    import torch

    assert torch.is_grad_enabled()
    for adapter_dir in ("", str(tiny_adapter[0])):
        generator = TransformersGenerator(
            model_dir=str(tiny_lm_dir), adapter_dir=adapter_dir, max_new_tokens=3
        )
        generator.generate(REQUEST)
        assert torch.is_grad_enabled()
        assert not any(p.requires_grad for p in generator.loaded().model.parameters())
    # Training code sharing the process still gets gradients.
    weight = torch.ones(2, requires_grad=True)
    (weight * 3).sum().backward()
    assert weight.grad.tolist() == [3.0, 3.0]


def test_missing_adapter_directory_is_a_clear_error(tiny_lm_dir, tmp_path):
    generator = TransformersGenerator(
        model_dir=str(tiny_lm_dir), adapter_dir=str(tmp_path / "no_adapter")
    )
    with pytest.raises(GenerationError) as error:
        generator.generate(REQUEST)
    assert error.value.reason == "adapter_missing"
    assert "no_adapter" in str(error.value)


@pytest.mark.parametrize("kind", ["empty", "bad_config", "bad_weights"])
def test_corrupt_adapter_is_a_clear_error(tiny_lm_dir, corrupt_adapter, tmp_path, kind):
    if kind == "bad_weights":
        adapter_dir = corrupt_adapter
    else:
        adapter_dir = tmp_path / kind
        adapter_dir.mkdir()
        if kind == "bad_config":
            (adapter_dir / "adapter_config.json").write_text("{not json")
    generator = TransformersGenerator(model_dir=str(tiny_lm_dir), adapter_dir=str(adapter_dir))
    with pytest.raises(GenerationError) as error:
        generator.generate(REQUEST)
    assert error.value.reason == "adapter_load_error"
    assert str(adapter_dir) in str(error.value)
    # A failed load is not cached: the next attempt tries again.
    with pytest.raises(GenerationError):
        generator.generate(REQUEST)


def test_chat_turn_with_the_transformers_backend(chat_ready, session, settings, tiny_lm_dir):
    from conversations.services import chat_turn_run

    settings.ARI_GENERATOR = "transformers"
    settings.TRANSFORMERS_MODEL_DIR = str(tiny_lm_dir)
    settings.TRANSFORMERS_MAX_NEW_TOKENS = 6
    reply = chat_turn_run(session=session, text=GREETING).reply

    assert reply.provenance["backend"] == "transformers"
    assert reply.model_versions["generator"] == f"transformers:{tiny_lm_dir.name}"
    vocabulary = {word for line in CORPUS for word in line.split()}
    # Whatever the model wrote passed through the filter (which may add its own sentences).
    assert set(reply.provenance.get("unfiltered_text", reply.text).split()) <= vocabulary


def test_chat_turn_with_a_lora_adapter(chat_ready, session, settings, tiny_lm_dir, tiny_adapter):
    from conversations.services import chat_turn_run

    settings.ARI_GENERATOR = "transformers"
    settings.TRANSFORMERS_MODEL_DIR = str(tiny_lm_dir)
    settings.TRANSFORMERS_ADAPTER_DIR = str(tiny_adapter[0])
    settings.TRANSFORMERS_MAX_NEW_TOKENS = 6
    reply = chat_turn_run(session=session, text=GREETING).reply

    assert reply.provenance["backend"] == "transformers"
    assert reply.provenance["model"] == f"{tiny_lm_dir.name}+tiny_lora"
    assert reply.model_versions["generator"] == f"transformers:{tiny_lm_dir.name}+tiny_lora"
    assert "fallback_from" not in reply.provenance


def test_chat_turn_with_a_corrupt_adapter_falls_back_to_approved(
    chat_ready, session, settings, tiny_lm_dir, corrupt_adapter
):
    from conversations.models import Message
    from conversations.services import chat_turn_run

    settings.ARI_GENERATOR = "transformers"
    settings.TRANSFORMERS_MODEL_DIR = str(tiny_lm_dir)
    settings.TRANSFORMERS_ADAPTER_DIR = str(corrupt_adapter)
    result = chat_turn_run(session=session, text=GREETING)

    assert result.reply.provenance["backend"] == "approved"
    assert result.reply.provenance["fallback_from"] == "transformers"
    assert result.reply.provenance["fallback_reason"] == "adapter_load_error"
    assert result.reply.model_versions["generator"].startswith("approved:")
    assert Message.objects.filter(pk=result.user_message.pk, text=GREETING).exists()


def test_one_backend_and_one_breaker_per_model_and_adapter(tiny_lm_dir, tiny_adapter, settings):
    from conversations.backends.generation import generators_reset, get_generator
    from conversations.backends.generation.breaker import breaker_key

    settings.TRANSFORMERS_MODEL_DIR = str(tiny_lm_dir)
    settings.TRANSFORMERS_ADAPTER_DIR = ""
    settings.TRANSFORMERS_MAX_NEW_TOKENS = 4
    generators_reset()
    adapter_dir = str(tiny_adapter[0])
    try:
        base = get_generator("transformers", model_dir=str(tiny_lm_dir), adapter_dir="")
        adapted = get_generator("transformers", model_dir=str(tiny_lm_dir), adapter_dir=adapter_dir)

        assert base is get_generator("transformers")  # the settings' pair: the same backend
        assert adapted is get_generator(
            "transformers", model_dir=str(tiny_lm_dir), adapter_dir=adapter_dir
        )
        assert adapted is not base
        assert base.generate(REQUEST).model == tiny_lm_dir.name
        assert adapted.generate(REQUEST).model == f"{tiny_lm_dir.name}+tiny_lora"
        # A broken adapter opens its own breaker, never its base model's.
        assert breaker_key(adapted).id != breaker_key(base).id
        assert breaker_key(adapted).model == f"{tiny_lm_dir.name}+tiny_lora"
    finally:
        generators_reset()
