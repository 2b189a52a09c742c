"""The served backend: n-gram model and sentence-embedding model, blended.

Two models read every text:
- the n-gram model (:class:`~training_jobs.ml.linear.LinearTextModel`): word and character
  n-grams, strong on the exact words people use (slang, typos, other languages);
- a logistic regression per head on MiniLM sentence vectors (:mod:`training_jobs.ml.encoder`),
  which places a phrasing it never saw near the situations it resembles.

Their probabilities are blended, ``blend * n-gram + (1 - blend) * embedding``; the weight and
the thresholds are chosen on leave-source-out scores (``training_jobs.ml.train``), never on
the frozen test split or the external dev set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from training_jobs.ml.artifact import ArtifactError
from training_jobs.ml.encoder import get_encoder
from training_jobs.ml.linear import LinearTextModel

LINEAR_DIR = "linear"
EMBEDDING_FILE = "embedding_heads.joblib"
CONFIG_FILE = "hybrid.json"
EMBEDDING_C = 4.0


class EmbeddingHeads:
    """One logistic regression per head on sentence vectors, scored with numpy."""

    def __init__(self, heads: dict[str, tuple[str, ...]], *, C: float, seed: int):
        self.heads = heads
        self.C = C
        self.seed = seed
        self.weights: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def fit(self, vectors: np.ndarray, targets: dict[str, Sequence[str | None]]):
        for head, labels in self.heads.items():
            y = targets[head]
            keep = [i for i, label in enumerate(y) if label is not None]
            classifier = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=3000, random_state=self.seed
            )
            classifier.fit(vectors[keep], [y[i] for i in keep])
            columns = np.array([labels.index(c) for c in classifier.classes_])
            self.weights[head] = (
                np.asarray(classifier.coef_, dtype=np.float32).T.copy(),
                np.asarray(classifier.intercept_, dtype=np.float32),
                columns,
            )
        return self

    def predict_proba(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for head, labels in self.heads.items():
            weights, intercept, columns = self.weights[head]
            z = vectors @ weights + intercept
            if z.shape[1] == 1:  # two classes: sigmoid
                p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
                raw = np.stack([1.0 - p1, p1], axis=1)
            else:
                z = z - z.max(axis=1, keepdims=True)
                raw = np.exp(z)
                raw /= raw.sum(axis=1, keepdims=True)
            full = np.zeros((len(vectors), len(labels)))
            full[:, columns] = raw
            out[head] = full
        return out


class HybridTextModel:
    backend = "hybrid"

    def __init__(
        self,
        heads: Mapping[str, Sequence[str]],
        *,
        C: float = 8.0,
        embedding_C: float = EMBEDDING_C,
        blend: float = 0.5,
        seed: int = 0,
    ):
        self.heads = {name: tuple(labels) for name, labels in heads.items()}
        self.blend = float(blend)
        self.seed = seed
        self.linear = LinearTextModel(self.heads, C=C, seed=seed)
        self.embedding = EmbeddingHeads(self.heads, C=embedding_C, seed=seed)

    def fit(
        self,
        texts: Sequence[str],
        targets: dict[str, Sequence[str | None]],
        *,
        progress: Callable[[float], None] | None = None,
    ) -> HybridTextModel:
        vectors = get_encoder().encode(list(texts))
        if progress:
            progress(0.3)
        self.embedding.fit(vectors, targets)
        if progress:
            progress(0.4)
        self.linear.fit(
            texts, targets, progress=(lambda f: progress(0.4 + 0.6 * f)) if progress else None
        )
        return self

    def predict_parts(self, texts: Sequence[str]) -> tuple[dict, dict]:
        """``(n-gram probabilities, embedding probabilities)`` per head, before blending."""
        texts = list(texts)
        return self.linear.predict_proba(texts), self.embedding.predict_proba(
            get_encoder().encode(texts)
        )

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        return blend_parts(*self.predict_parts(texts), self.blend)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.linear.save(directory / LINEAR_DIR)
        joblib.dump(
            {"weights": self.embedding.weights, "C": self.embedding.C}, directory / EMBEDDING_FILE
        )
        config = {
            "heads": {h: list(v) for h, v in self.heads.items()},
            "blend": self.blend,
            "seed": self.seed,
            "encoder": get_encoder().identity,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: dict) -> HybridTextModel:
        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
            state = joblib.load(directory / EMBEDDING_FILE)
        except Exception as exc:  # noqa: BLE001 - any failure here means an unusable artifact
            raise ArtifactError(
                f"model artifact {directory} cannot be loaded ({type(exc).__name__}: {exc})"
            ) from None
        model = cls(config["heads"], blend=config["blend"], seed=config["seed"])
        model.linear = LinearTextModel.load(directory / LINEAR_DIR, manifest)
        model.embedding.C = state["C"]
        model.embedding.weights = state["weights"]
        get_encoder()  # loaded now, not on the first message
        return model


def blend_parts(linear: dict, embedding: dict, blend: float) -> dict[str, np.ndarray]:
    return {head: blend * linear[head] + (1.0 - blend) * embedding[head] for head in linear}
