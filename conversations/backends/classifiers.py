"""Run-time safety and intent classifiers: the artifact of the active model version.

``get_safety_classifier()`` / ``get_intent_classifier()`` look up the active ``ModelVersion``
of their kind (one indexed query, cached in-process for ``ARI_CONFIG_CACHE_SECONDS``) and return
its predictor, loaded once per version and cached in the process. Activating another version
switches this process at its next call and every other one within that many seconds.
A missing or damaged artifact raises :class:`ClassifierUnavailable` naming the path; the chat
pipeline then falls back to the rule safety net.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

from ari_review.ttl_cache import active_model_version_key, ttl_cached
from conversations.backends.base import IntentClassifier, SafetyClassifier
from training_jobs.ml.artifact import ArtifactError

if TYPE_CHECKING:
    from training_jobs.ml.predictors import IntentPredictor, SafetyPredictor

logger = logging.getLogger(__name__)

_MAX_LOADED = 4
_cache: OrderedDict[tuple[str, str], SafetyPredictor | IntentPredictor] = OrderedDict()
_lock = threading.Lock()


class ClassifierUnavailable(ArtifactError):
    """No usable model version for a classifier kind (none active, or its artifact is broken)."""


def _predictor_for(kind: str) -> SafetyPredictor | IntentPredictor:
    from training_jobs.selectors import model_version_active_get

    version = ttl_cached(
        active_model_version_key(kind), lambda: model_version_active_get(kind=kind)
    )
    if version is None:
        raise ClassifierUnavailable(
            f"no active {kind} model version: run `python manage.py ensure_models` "
            f"or `python manage.py train_classifier {kind} --activate`"
        )
    return _predictor_of(kind, version)


def _predictor_of(
    kind: str, version: Any
) -> SafetyPredictor | IntentPredictor:  # version: a ModelVersion (a floor above)
    from training_jobs.ml.predictors import load_predictor

    key = (version.name, str(version.artifact_dir))
    with _lock:
        predictor = _cache.get(key)
        if predictor is not None:
            _cache.move_to_end(key)
            return predictor
    try:
        predictor = load_predictor(version.artifact_dir, version=version.name)
    except ArtifactError as exc:
        raise ClassifierUnavailable(f"{kind} model version {version.name}: {exc}") from None
    if getattr(predictor, "kind", kind) != kind:
        raise ClassifierUnavailable(f"model version {version.name} is not a {kind} model")
    logger.info("loaded %s model version_id=%s", kind, version.pk)
    with _lock:
        _cache[key] = predictor
        while len(_cache) > _MAX_LOADED:
            _cache.popitem(last=False)
    return predictor


def get_safety_classifier() -> SafetyClassifier:
    # _predictor_for checked the artifact's kind.
    return cast(SafetyClassifier, _predictor_for("safety"))


def get_intent_classifier() -> IntentClassifier:
    return cast(IntentClassifier, _predictor_for("intent"))


def get_classifier_for_version(kind: str, version_id: int) -> SafetyPredictor | IntentPredictor:
    """The predictor of model version ``version_id`` (a release candidate's, docs/releases.md);
    the row is read once per ``ARI_CONFIG_CACHE_SECONDS``, the artifact loaded once."""
    from training_jobs.selectors import model_version_get

    version = ttl_cached(
        f"model_version:{version_id}", lambda: model_version_get(version_id=version_id)
    )
    if version is None:
        raise ClassifierUnavailable(f"model version {version_id} does not exist")
    return _predictor_of(kind, version)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
