"""Generation backends: one interface (``Generator.generate(GenerationRequest)``), chosen by
``settings.ARI_GENERATOR`` and built once per process by :func:`get_generator`.

``approved``      clinician-approved seed dialogues (the embedded default; no network, no weights)
``openai``        any OpenAI-compatible Chat Completions server (OpenAI, vLLM, Ollama, llama.cpp)
``transformers``  a local causal LM directory, optionally with a PEFT/LoRA adapter

A backend that cannot answer raises :class:`GenerationError`; the chat pipeline then falls back
to the ``approved`` backend and records why.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from conversations.backends.base import GeneratedReply, Generator

BACKENDS = {
    "approved": "conversations.backends.generation.approved.ApprovedContentGenerator",
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

    details: Mapping = field(default_factory=dict)


_lock = threading.Lock()
_generators: dict[str, Generator] = {}


def generator_build(name: str) -> Generator:
    path = BACKENDS.get(name, name)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise GenerationError(
            "unknown_backend",
            f"ARI_GENERATOR={name!r} is neither one of {sorted(BACKENDS)} nor an importable "
            f"class path ({exc}).",
        ) from exc
    return cls()


def get_generator(name: str | None = None) -> Generator:
    """The generator named by ``name`` (default: ``settings.ARI_GENERATOR``), cached per process."""
    name = name or settings.ARI_GENERATOR
    generator = _generators.get(name)
    if generator is None:
        with _lock:
            generator = _generators.get(name)
            if generator is None:
                generator = generator_build(name)
                _generators[name] = generator
    return generator


def get_fallback_generator() -> Generator:
    return get_generator("approved")


def generators_reset() -> None:
    """Forget built generators (tests, or after changing settings at run time)."""
    with _lock:
        _generators.clear()
