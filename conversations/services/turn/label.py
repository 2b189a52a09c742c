"""Stage 5, label: the intent of the reply the user reads (validate, question, suggest...)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from conversations.backends.base import IntentPrediction
from conversations.models import Intent

if TYPE_CHECKING:
    from conversations.backends.base import IntentClassifier
from conversations.services.turn.state import Turn, ms_since

logger = logging.getLogger(__name__)

# Approved replies repeat (a finite set of texts), and a model version labels the same text the
# same way every time: remember the last labels per (model version, text).
_INTENT_CACHE_SIZE = 4096
_intent_cache: OrderedDict[tuple[str, str], IntentPrediction] = OrderedDict()
_intent_cache_lock = threading.Lock()


def intent_predict(classifier: IntentClassifier, text: str) -> IntentPrediction:
    """``classifier.predict(text)``, remembered per (model version, text)."""
    version = getattr(classifier, "version", None)
    if not isinstance(version, str):
        return classifier.predict(text)
    key = (version, text)
    with _intent_cache_lock:
        cached = _intent_cache.get(key)
        if cached is not None:
            _intent_cache.move_to_end(key)
            return cached
    prediction = classifier.predict(text)
    with _intent_cache_lock:
        _intent_cache[key] = prediction
        while len(_intent_cache) > _INTENT_CACHE_SIZE:
            _intent_cache.popitem(last=False)
    return prediction


def label(text: str, *, classifier: IntentClassifier | None, turn: Turn) -> None:
    """Set ``turn.intent`` and ``turn.intent_score`` for ``text``; a failing model gives
    ``other`` (recorded), never a failed turn."""
    start = time.perf_counter()
    try:
        if classifier is None:
            from conversations.backends.classifiers import get_intent_classifier

            classifier = get_intent_classifier()
        prediction = intent_predict(classifier, text)
        intent, score, version = prediction.intent, prediction.score, prediction.model_version
    except Exception as exc:
        logger.exception("intent classifier failed")
        intent, score, version = Intent.OTHER, None, "unavailable"
        turn.provenance["intent_error"] = type(exc).__name__
    if intent not in Intent.values:
        intent = Intent.OTHER
    turn.intent, turn.intent_score = intent, score
    turn.latency["intent"] = turn.latency.get("intent", 0.0) + ms_since(start)
    turn.model_versions["intent"] = version
