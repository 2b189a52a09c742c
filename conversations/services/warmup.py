"""Load what a chat turn needs before the first person arrives.

A fresh worker otherwise loads torch, the encoder, both classifiers and the exemplar index
inside its first turn: seconds, or tens of seconds on a loaded machine (the chat benchmark saw a
first high-risk turn wait 22-29 s and workers killed by gunicorn's timeout). ``ari_review.wsgi``
runs :func:`models_warm` in a background thread when a server process starts
(``ARI_WARM_ON_START``); a turn that arrives meanwhile waits only for what is still loading.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

# Set while this process's warm-up runs and until it has finished (ready).
_warming = threading.Event()
_ready = threading.Event()


def models_ready(wait_s: float) -> bool:
    """Whether a turn may use the models now: True when no warm-up runs in this process (the
    turn loads what it needs itself, as commands and tests do) or the warm-up has finished,
    waiting at most ``wait_s`` seconds for it. False: still loading; the safety screen then
    decides by its rules (conversations.services.turn.screen) instead of waiting."""
    if not _warming.is_set():
        return True
    return _ready.wait(wait_s)


def models_warm_in_background(steps: dict[str, Any] | None = None) -> threading.Thread:
    """Start :func:`models_warm` in a daemon thread; turns see the warm-up from this call on."""
    _ready.clear()
    _warming.set()
    thread = threading.Thread(
        target=models_warm, args=(steps,), name="ari-models-warm", daemon=True
    )
    thread.start()
    return thread


def _default_steps() -> dict[str, Any]:
    from conversations.backends.classifiers import get_intent_classifier, get_safety_classifier
    from conversations.services.exemplars import exemplar_nearest

    steps = {
        "safety": lambda: get_safety_classifier().assess("warming up", history=[]),
        "intent": lambda: get_intent_classifier().predict("warming up"),
        "exemplars": lambda: exemplar_nearest("warming up"),
    }
    from conversations.backends.generation.openai_compat import llm_masking_used

    if llm_masking_used():  # text for an untrusted LLM server is masked (docs/privacy.md)
        from ari_review.privacy.masking import mask_text

        steps["llm_masking"] = lambda: mask_text("Warming up: my name is Sam, I live in Leeds.")
    return steps


def models_warm(steps: dict[str, Any] | None = None) -> dict[str, float | str]:
    """Load the classifiers, the encoder and the exemplar index (or run ``steps``, name ->
    callable); never raises. Returns the milliseconds each took, or the error's kind."""
    steps = steps if steps is not None else _default_steps()
    timings: dict[str, float | str] = {}
    _ready.clear()
    _warming.set()
    try:
        _steps_run(steps, timings)
    finally:
        _ready.set()
        _warming.clear()
    logger.info("models warmed %s", timings)
    return timings


def _steps_run(steps: dict[str, Any], timings: dict[str, float | str]) -> None:
    for name, step in steps.items():
        start = time.perf_counter()
        try:
            step()
        except Exception as exc:  # no model yet, no database yet: the first turn will tell
            timings[name] = f"error:{type(exc).__name__}"
        else:
            timings[name] = round((time.perf_counter() - start) * 1000, 1)
