"""Load what a chat turn needs before the first person arrives.

A fresh worker otherwise loads torch, the encoder, both classifiers and the exemplar index
inside its first turn: seconds, or tens of seconds on a loaded machine (the chat benchmark saw a
first high-risk turn wait 22-29 s and workers killed by gunicorn's timeout). ``ari_review.wsgi``
runs :func:`models_warm` in a background thread when a server process starts
(``ARI_WARM_ON_START``); a turn that arrives meanwhile waits only for what is still loading.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


def models_warm() -> dict[str, float | str]:
    """Load the classifiers, the encoder and the exemplar index; never raises. Returns the
    milliseconds each took, or the error's kind."""
    from conversations.backends.classifiers import get_intent_classifier, get_safety_classifier
    from conversations.services.exemplars import exemplar_nearest

    steps = {
        "safety": lambda: get_safety_classifier().assess("warming up", history=[]),
        "intent": lambda: get_intent_classifier().predict("warming up"),
        "exemplars": lambda: exemplar_nearest("warming up"),
    }
    timings: dict[str, float | str] = {}
    for name, step in steps.items():
        start = time.perf_counter()
        try:
            step()
        except Exception as exc:  # no model yet, no database yet: the first turn will tell
            timings[name] = f"error:{type(exc).__name__}"
        else:
            timings[name] = round((time.perf_counter() - start) * 1000, 1)
    logger.info("models warmed %s", timings)
    return timings
