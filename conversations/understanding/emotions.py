"""The feeling in a user's message: one coaching feeling, a score and, when close, a runner-up.

``feeling_of(text, history=())`` decides, offline (docs/emotions.md):

1. a cue from ``feelings.yaml`` names the feeling: the feelings GoEmotions has no label for
   (lonely, hopeless, overwhelmed, numb), plain loss, and feelings people name about themselves
   ("I feel guilty"); a negation before a cue cancels it;
2. else the emotion model's best coaching feeling, if its score clears that feeling's threshold;
3. else ``mixed`` (unclear, several, neutral);
4. a ``mixed`` message with earlier user turns takes the feeling of the most recent turn that
   has one, its score lowered per turn back (``HISTORY_DECAY``).

The emotion model scores the 28 GoEmotions labels, ``blend * tfidf + (1 - blend) * minilm``: a
logistic regression per label on the project's MiniLM sentence vectors
(``training_jobs.ml.encoder``; the text is cleaned as the safety screen cleans it, so the
encoder's cache usually holds its vector already) and one on TF-IDF n-grams; a coaching
feeling's score is the highest probability of the labels mapped to it. The newest usable
artifact under ``MODEL_ARTIFACT_DIR/emotions/`` is loaded once per process; without one (or
when it cannot run) the cues plus the plain keywords of ``feelings.yaml`` decide and ``source``
starts with ``fallback-``. Training (``training_jobs.ml.emotions``) measures with
:func:`decide_indices`, the same decision as here.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from conversations.understanding.lexicon import (
    KEYWORD_PREFIX,
    MIXED,
    CueHit,
    FeelingsConfig,
    cue_hits,
    feelings_config,
    keyword_hits,
    ranked_feelings,
)
from training_jobs.ml.artifact import ArtifactError, read_manifest

logger = logging.getLogger(__name__)

KIND = "emotions"
ARTIFACT_SUBDIR = "emotions"
HEADS_FILE = "heads.npz"
TFIDF_FILE = "tfidf.joblib"
CONFIG_FILE = "emotions.json"
# A cue names the feeling with this score (it is explicit, not a guess).
CUE_SCORE = 0.9
# Keywords (no trained model) are weaker evidence.
KEYWORD_SCORE = 0.6
# The runner-up is given when it clears its own threshold and is within this of the best
# score; for a ``mixed`` result, when the best feeling reaches this share of its threshold.
CLOSE_MARGIN = 0.2
NEAR_THRESHOLD = 0.75
HISTORY_TURNS = 3
HISTORY_DECAY = 0.8


@dataclass(frozen=True)
class Feeling:
    """A coaching feeling. ``source``: ``lexicon`` (a cue), ``model``, ``none`` (nothing clear:
    ``mixed``); ``fallback-lexicon`` / ``fallback-keywords`` / ``fallback-none`` when no trained
    model serves. ``cues`` are cue ids, never the user's words."""

    name: str
    score: float
    runner_up: str | None = None
    runner_up_score: float | None = None
    source: str = "model"
    cues: tuple[str, ...] = ()
    from_history: bool = False
    model_version: str = ""


# --- the decision, shared by serving and training -------------------------------------------


def feeling_scores(
    probs: np.ndarray,
    labels: Sequence[str],
    mapping: dict[str, str],
    feelings: Sequence[str],
) -> np.ndarray:
    """``(n, len(feelings))``: per feeling, the highest probability of the labels mapped to it
    (0 for a feeling no label maps to)."""
    probs = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    out = np.zeros((probs.shape[0], len(feelings)))
    for j, label in enumerate(labels):
        column = list(feelings).index(mapping[label])
        out[:, column] = np.maximum(out[:, column], probs[:, j])
    return out


@dataclass(frozen=True)
class ModelChoice:
    best: np.ndarray  # (n,) index of the best feeling that clears its threshold, -1 for none
    best_score: np.ndarray
    second: np.ndarray  # (n,) the next one by the same order (cleared or not), -1 for none
    second_score: np.ndarray
    second_ratio: np.ndarray  # second's score / its threshold


def model_choice(
    scores: np.ndarray, thresholds: np.ndarray, feelings: Sequence[str]
) -> ModelChoice:
    """Rank feelings by score / threshold (``mixed`` and feelings without labels excluded)."""
    scores = np.atleast_2d(scores)
    ratio = scores / np.maximum(thresholds, 1e-9)
    usable = np.array([f != MIXED for f in feelings])
    ratio = np.where(usable & (scores > 0), ratio, -np.inf)
    order = np.argsort(-ratio, axis=1)
    rows = np.arange(scores.shape[0])
    first, second = order[:, 0], order[:, 1]
    first_ok = np.isfinite(ratio[rows, first]) & (ratio[rows, first] >= 1.0)
    second_ok = np.isfinite(ratio[rows, second])
    best = np.where(first_ok, first, -1)
    # Without a best, the "second" is the top candidate (the one nearest its threshold).
    runner = np.where(first_ok, second, first)
    runner_ok = np.where(first_ok, second_ok, np.isfinite(ratio[rows, first]))
    return ModelChoice(
        best=best,
        best_score=np.where(first_ok, scores[rows, first], 0.0),
        second=np.where(runner_ok, runner, -1),
        second_score=np.where(runner_ok, scores[rows, runner], 0.0),
        second_ratio=np.where(runner_ok, ratio[rows, runner], 0.0),
    )


def decide_indices(
    scores: np.ndarray, thresholds: np.ndarray, feelings: Sequence[str], cue_index: np.ndarray
) -> np.ndarray:
    """The decided feeling per row as an index into ``feelings`` (``cue_index``: the index of
    the row's cue feeling, -1 for none): the served decision, vectorised for tuning."""
    best = model_choice(scores, thresholds, feelings).best
    mixed = list(feelings).index(MIXED)
    return np.where(cue_index >= 0, cue_index, np.where(best >= 0, best, mixed))


def decide_names(
    scores: np.ndarray,
    thresholds: np.ndarray,
    feelings: Sequence[str],
    cue_feelings: Sequence[str | None],
) -> list[str]:
    """The decided feeling per row (:func:`decide_indices` with names)."""
    index = {f: i for i, f in enumerate(feelings)}
    cue_index = np.array([index[c] if c else -1 for c in cue_feelings], dtype=np.int64)
    return [feelings[i] for i in decide_indices(scores, thresholds, feelings, cue_index)]


def decide(
    scores: np.ndarray | None,
    thresholds: np.ndarray | None,
    feelings: Sequence[str],
    hits: Sequence[CueHit],
    priority: Sequence[str],
    *,
    fallback: bool = False,
    model_version: str = "",
) -> Feeling:
    """One message's :class:`Feeling` from its feeling scores (None: no model) and cue hits."""
    prefix = "fallback-" if fallback else ""
    best = runner = None
    best_score = runner_score = 0.0
    runner_ok = False
    if scores is not None and thresholds is not None:
        choice = model_choice(np.atleast_2d(scores), thresholds, feelings)
        if choice.best[0] >= 0:
            best, best_score = feelings[int(choice.best[0])], float(choice.best_score[0])
        if choice.second[0] >= 0:
            runner, runner_score = feelings[int(choice.second[0])], float(choice.second_score[0])
            runner_ok = bool(
                choice.second_ratio[0] >= 1.0 and best_score - runner_score <= CLOSE_MARGIN
                if best is not None
                else choice.second_ratio[0] >= NEAR_THRESHOLD
            )
    common: dict[str, Any] = {"cues": tuple(h.cue_id for h in hits), "model_version": model_version}
    # Cues first, then (without a model) keywords, each in priority order.
    cue_only = [h for h in hits if not h.cue_id.startswith(KEYWORD_PREFIX)]
    from_cue = {h.feeling for h in cue_only}
    ranked = ranked_feelings(cue_only, tuple(priority))
    ranked += [
        f
        for f in ranked_feelings([h for h in hits if h.feeling not in from_cue], tuple(priority))
        if f not in ranked
    ]
    if ranked:

        def cue_score(feeling: str) -> float:
            return CUE_SCORE if feeling in from_cue else KEYWORD_SCORE

        if len(ranked) > 1:
            second, second_score = ranked[1], cue_score(ranked[1])
        elif best is not None and best != ranked[0]:
            second, second_score = best, round(best_score, 4)
        else:
            second, second_score = None, None
        return Feeling(
            name=ranked[0],
            score=cue_score(ranked[0]),
            runner_up=second,
            runner_up_score=second_score,
            source=prefix + ("lexicon" if ranked[0] in from_cue else "keywords"),
            **common,
        )
    if best is not None:
        return Feeling(
            name=best,
            score=round(best_score, 4),
            runner_up=runner if runner_ok else None,
            runner_up_score=round(runner_score, 4) if runner_ok else None,
            source=prefix + "model",
            **common,
        )
    mixed_score = 0.0
    if scores is not None and MIXED in feelings:
        mixed_score = float(np.atleast_2d(scores)[0, list(feelings).index(MIXED)])
    return Feeling(
        name=MIXED,
        score=round(mixed_score, 4),
        runner_up=runner if runner_ok else None,
        runner_up_score=round(runner_score, 4) if runner_ok else None,
        source=prefix + "none",
        **common,
    )


# --- the served model ------------------------------------------------------------------------


class EmotionModel:
    """A trained artifact: logistic-regression weights over sentence vectors (and, when blended,
    TF-IDF), the label -> feeling mapping and the thresholds it was tuned with."""

    def __init__(self, *, directory: Path, manifest: dict, config: dict, heads: dict):
        self.directory = directory
        self.version = str(manifest.get("version") or directory.name)
        self.labels: tuple[str, ...] = tuple(config["labels"])
        self.feelings: tuple[str, ...] = tuple(config["feelings"])
        self.mapping: dict[str, str] = dict(config["mapping"])
        self.thresholds = np.array(
            [config["feeling_thresholds"].get(f, 1.0) for f in self.feelings], dtype=np.float64
        )
        self.blend = float(config.get("blend", 0.0))
        if not 0.0 <= self.blend <= 1.0:
            raise ValueError(f"blend {self.blend} is not in [0, 1]")
        self.embedding_weights: np.ndarray | None = None
        self.embedding_bias: np.ndarray | None = None
        if self.uses_encoder:
            self.embedding_weights = np.asarray(heads["embedding_W"], dtype=np.float32)
            self.embedding_bias = np.asarray(heads["embedding_b"], dtype=np.float32)
        self.tfidf = _load_tfidf(directory, heads) if self.blend > 0 else None

    @property
    def uses_encoder(self) -> bool:
        return self.blend < 1.0

    def label_probs(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 28)`` label probabilities. Texts are cleaned as the safety screen cleans
        them, so the encoder's cache usually holds their vectors already."""
        from training_jobs.ml.text import clean

        cleaned = [clean(t) for t in texts]
        probs = np.zeros((len(cleaned), len(self.labels)))
        if self.uses_encoder:
            from training_jobs.ml.encoder import get_encoder

            weights, bias = self.embedding_weights, self.embedding_bias
            if weights is None or bias is None:  # loaded in __init__ whenever the encoder is used
                raise RuntimeError(f"emotion model {self.version} has no embedding head")
            vectors = get_encoder().encode(cleaned)
            z = vectors @ weights + bias
            probs += (1.0 - self.blend) * _sigmoid(z)
        if self.tfidf is not None:
            probs += self.blend * self.tfidf.predict(cleaned)
        return probs

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return feeling_scores(self.label_probs(texts), self.labels, self.mapping, self.feelings)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


class CompiledTfidfHeads:
    """TF-IDF (word and character n-grams) with one logistic regression per label, scored one
    message at a time through look-up tables (``training_jobs.ml.linear.compile_tfidf``)."""

    def __init__(self, features, weights: np.ndarray, bias: np.ndarray):
        from training_jobs.ml.linear import compile_tfidf

        self.vectorizers = []
        offset = 0
        for _name, vectorizer in features.transformer_list:
            self.vectorizers.append(compile_tfidf(vectorizer, offset=offset))
            offset += len(vectorizer.vocabulary_)
        self.weights = np.asarray(weights, dtype=np.float32)  # (n_features, n_labels)
        if self.weights.shape[0] != offset:
            raise ValueError("TF-IDF weights do not match the vocabulary")
        self.bias = np.asarray(bias, dtype=np.float32)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.bias)))
        for i, text in enumerate(texts):
            z = self.bias.astype(np.float64)
            for vectorizer in self.vectorizers:
                local, values = vectorizer.terms(text)
                if len(local):
                    z = z + values @ self.weights[local + vectorizer.offset]
            out[i] = _sigmoid(z)
        return out


def _load_tfidf(directory: Path, heads: dict) -> CompiledTfidfHeads:
    import joblib

    path = directory / TFIDF_FILE
    try:
        features = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise ArtifactError(f"emotion artifact file cannot be loaded: {path} ({exc})") from None
    return CompiledTfidfHeads(features, heads["tfidf_W"], heads["tfidf_b"])


def load_emotion_model(directory: Path) -> EmotionModel:
    """Load one artifact directory (raises :class:`ArtifactError` naming what is wrong)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest["kind"] != KIND:
        raise ArtifactError(f"{directory} is a {manifest['kind']!r} artifact, not {KIND!r}")
    try:
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        with np.load(directory / HEADS_FILE) as stored:
            heads = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"emotion artifact {directory} cannot be loaded ({exc})") from None
    try:
        model = EmotionModel(directory=directory, manifest=manifest, config=config, heads=heads)
    except (KeyError, ValueError) as exc:
        raise ArtifactError(f"emotion artifact {directory} is not usable ({exc})") from None
    if model.uses_encoder:
        from training_jobs.ml.encoder import get_encoder  # loaded now, not on the first message

        expected = (config.get("encoder") or {}).get("weights_sha256")
        actual = get_encoder().identity.get("weights_sha256")
        if expected and actual and expected != actual:
            raise ArtifactError(f"emotion artifact {directory} was trained on another encoder")
    return model


def artifact_root() -> Path:
    return Path(settings.MODEL_ARTIFACT_DIR) / ARTIFACT_SUBDIR


def artifact_versions(root: Path | None = None) -> list[Path]:
    """Artifact directories under ``root``, newest first (versions sort by their time stamp)."""
    root = root or artifact_root()
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)


_lock = threading.Lock()
_models: dict[str, EmotionModel | None] = {}


def served_model() -> EmotionModel | None:
    """The newest usable artifact, loaded once per process (None when there is none)."""
    root = artifact_root()
    key = str(root)
    with _lock:
        if key not in _models:
            _models[key] = _load_newest(root)
        return _models[key]


def _load_newest(root: Path) -> EmotionModel | None:
    for directory in artifact_versions(root):
        try:
            model = load_emotion_model(directory)
        except ArtifactError as exc:
            logger.warning("emotion artifact skipped: %s", exc)
            continue
        except Exception as exc:  # noqa: BLE001 - the encoder cannot run here: fall back
            logger.warning("emotion model unavailable (%s): cues and keywords serve", exc)
            return None
        logger.info("emotion model %s loaded", model.version)
        return model
    return None


def clear_emotion_model_cache() -> None:
    """Forget loaded models (tests; a new artifact is otherwise read at the next start)."""
    with _lock:
        _models.clear()


# --- the entry point -------------------------------------------------------------------------


def _feeling_of_one(text: str, model: EmotionModel | None, config: FeelingsConfig) -> Feeling:
    hits = cue_hits(text, config)
    if model is not None:
        try:
            scores = model.scores([text])
        except Exception as exc:  # noqa: BLE001 - a failing model must not break a turn
            logger.warning("emotion model failed (%s): cues and keywords serve", type(exc).__name__)
        else:
            return decide(
                scores,
                model.thresholds,
                model.feelings,
                hits,
                config.priority,
                model_version=model.version,
            )
    named = {h.feeling for h in hits}
    hits += [h for h in keyword_hits(text, config) if h.feeling not in named]
    return decide(None, None, config.feelings, hits, config.priority, fallback=True)


def feeling_of(text: str, history: Sequence[str] = ()) -> Feeling:
    """The coaching feeling of ``text``; ``history``: the user's earlier messages, oldest
    first, consulted only when ``text`` alone is ``mixed``."""
    config = feelings_config()
    model = served_model()
    current = _feeling_of_one(text, model, config)
    if current.name != MIXED or not history:
        return current
    for back, turn in enumerate(reversed(list(history)[-HISTORY_TURNS:]), start=1):
        if not (turn or "").strip():
            continue
        earlier = _feeling_of_one(turn, model, config)
        if earlier.name != MIXED:
            return replace(
                earlier,
                score=round(earlier.score * HISTORY_DECAY**back, 4),
                runner_up=None,
                runner_up_score=None,
                from_history=True,
            )
    return current
