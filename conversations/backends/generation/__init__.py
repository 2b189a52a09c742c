"""Generation backends: one interface (``Generator.generate(GenerationRequest)``), chosen by
``settings.ARI_GENERATOR`` and built once per process by :func:`get_generator`.

``composed``      the default: a reply composed from clinician-approved parts that names the
                  user's feeling and reflects their words (no network, no weights)
``approved``      clinician-approved seed dialogues, whole (the fallback; no network, no weights)
``openai``        any OpenAI-compatible Chat Completions server (OpenAI, vLLM, Ollama, llama.cpp)
``transformers``  a local causal LM directory, optionally with a PEFT/LoRA adapter

A backend that cannot answer raises :class:`GenerationError`; the chat pipeline then falls back
to the ``approved`` backend and records why. The pipeline calls a backend only through
:func:`generation_run`: every backend but ``approved`` sits behind a circuit breaker
(``breaker.py``) and keeps the wall-clock deadline ``ARI_GENERATION_DEADLINE_S`` itself (the
``openai`` backend for connect, every chunk and parsing, retries included), so a hung or
dripping server costs a turn at most the deadline and an unhealthy one costs nothing while its
breaker is open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from conversations.backends.base import GeneratedReply, GenerationRequest, Generator

logger = logging.getLogger(__name__)

# A backend that answers later than its deadline plus this is logged (it ignored the deadline).
DEADLINE_MARGIN_S = 1.0

BACKENDS = {
    "approved": "conversations.backends.generation.approved.ApprovedContentGenerator",
    "composed": "conversations.backends.generation.composed.ComposedGenerator",
    "openai": "conversations.backends.generation.openai_compat.OpenAICompatibleGenerator",
    "transformers": "conversations.backends.generation.local_transformers.TransformersGenerator",
}


class GenerationError(Exception):
    """The backend could not produce a reply. ``reason`` is short and safe to store."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class Generated(GeneratedReply):
    """A reply plus backend-specific provenance (dialogue turn, similarity, attempts...)."""

    details: Mapping[str, Any] = field(default_factory=dict)


_lock = threading.Lock()
_generators: dict[str, Generator] = {}


def generator_build(
    name: str, *, llm_model: str = "", model_dir: str = "", adapter_dir: str = ""
) -> Generator:
    """A new backend ``name``; ``llm_model`` names the model an ``openai`` backend asks for
    (a release's generation configuration; default ``OPENAI_MODEL``), ``model_dir`` and
    ``adapter_dir`` the directories a ``transformers`` backend loads (with ``model_dir``, ""
    for ``adapter_dir`` is no adapter; without it, the settings' pair)."""
    path = BACKENDS.get(name, name)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise GenerationError(
            "unknown_backend",
            f"ARI_GENERATOR={name!r} is neither one of {sorted(BACKENDS)} nor an importable "
            f"class path ({exc}).",
        ) from exc
    generator: Generator
    if llm_model and name == "openai":
        generator = cls(model=llm_model)
    elif model_dir and name == "transformers":
        generator = cls(model_dir=model_dir, adapter_dir=adapter_dir)
    else:
        generator = cls()
    return generator


def get_generator(
    name: str | None = None, *, llm_model: str = "", model_dir: str = "", adapter_dir: str = ""
) -> Generator:
    """The generator named by ``name`` (default: ``settings.ARI_GENERATOR``), asking for
    ``llm_model`` where the backend is ``openai`` (default ``OPENAI_MODEL``) and loading
    ``model_dir`` with ``adapter_dir`` where it is ``transformers`` (default the settings'
    ``TRANSFORMERS_MODEL_DIR`` and ``TRANSFORMERS_ADAPTER_DIR``); cached per process, one per
    model (and per model and adapter pair)."""
    name = name or settings.ARI_GENERATOR
    llm_model = llm_model if name == "openai" and llm_model != settings.OPENAI_MODEL else ""
    pair = (model_dir, adapter_dir)
    if name != "transformers" or not model_dir or pair == _settings_pair():
        model_dir = adapter_dir = ""
    key = name
    if llm_model:
        key = f"{name}:{llm_model}"
    elif model_dir:
        key = f"{name}:{model_dir}\0{adapter_dir}"
    generator = _generators.get(key)
    if generator is None:
        with _lock:
            generator = _generators.get(key)
            if generator is None:
                generator = generator_build(
                    name, llm_model=llm_model, model_dir=model_dir, adapter_dir=adapter_dir
                )
                _generators[key] = generator
    return generator


def _settings_pair() -> tuple[str, str]:
    return settings.TRANSFORMERS_MODEL_DIR, settings.TRANSFORMERS_ADAPTER_DIR


def get_fallback_generator() -> Generator:
    return get_generator("approved")


def generators_reset() -> None:
    """Forget built generators and every breaker's state (tests, or after changing settings at
    run time: new settings, new backends, closed breakers)."""
    from conversations.backends.generation.breaker import breaker_reset

    with _lock:
        _generators.clear()
    try:
        breaker_reset()
    except Exception as exc:  # the cache is down: nothing to forget there that can be reached
        logger.warning("generation breakers not reset error=%s", type(exc).__name__)


def generation_run(generator: Generator, request: GenerationRequest) -> GeneratedReply:
    """One guarded call of ``generator`` for ``request``: the chat turn's only way to generate.

    Raises :class:`GenerationError` (with a reason) when the backend cannot answer, and
    ``GenerationError("circuit_open")`` at once, without calling it, while its breaker is open.
    The ``approved`` backend (the fallback) is called directly, without a breaker. The deadline
    is kept by the backend (a thread is never killed); one that overran it is logged.
    """
    from conversations.backends.generation.breaker import breaker_call, breaker_exempt

    if breaker_exempt(generator):
        return generator.generate(request)
    started = time.monotonic()
    try:
        return breaker_call(generator, lambda: generator.generate(request))
    finally:
        elapsed = time.monotonic() - started
        if elapsed > settings.ARI_GENERATION_DEADLINE_S + DEADLINE_MARGIN_S:
            logger.warning(
                "generation overran its deadline backend=%s seconds=%.2f",
                getattr(generator, "name", "?"),
                elapsed,
            )
