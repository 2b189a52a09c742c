"""The fast backend: TF-IDF word (1-2) and char (2-5) n-grams, a logistic regression per head."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from training_jobs.ml.artifact import ArtifactError

MODEL_FILE = "linear.joblib"


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    lowercase=True,
                    sublinear_tf=True,
                    min_df=1,
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a regex, not a password
                    dtype=np.float32,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    lowercase=True,
                    sublinear_tf=True,
                    min_df=2,
                    max_features=150_000,
                    dtype=np.float32,
                ),
            ),
        ]
    )


class LinearTextModel:
    backend = "linear"

    def __init__(self, heads: dict[str, Sequence[str]], *, C: float = 8.0, seed: int = 0):
        self.heads = {name: tuple(labels) for name, labels in heads.items()}
        self.C = C
        self.seed = seed
        self.features: FeatureUnion | None = None
        self.classifiers: dict[str, LogisticRegression] = {}

    def fit(
        self,
        texts: Sequence[str],
        targets: dict[str, Sequence[str | None]],
        *,
        progress: Callable[[float], None] | None = None,
    ) -> LinearTextModel:
        """Fit; ``targets[head][i]`` is a label, or None to leave row i out of that head."""
        self.features = _features()
        matrix = self.features.fit_transform(list(texts))
        for done, head in enumerate(self.heads):
            y = targets[head]
            keep = [i for i, label in enumerate(y) if label is not None]
            present = sorted({y[i] for i in keep})
            if len(present) < 2:
                raise ValueError(
                    f"head '{head}' needs at least two labels in the training data, got {present}"
                )
            classifier = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=3000, random_state=self.seed
            )
            classifier.fit(matrix[keep], [y[i] for i in keep])
            self.classifiers[head] = classifier
            if progress:
                progress((done + 1) / len(self.heads))
        return self

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Probabilities per head, columns in the order of ``self.heads[head]``."""
        if self.features is None:
            raise RuntimeError("model is not fitted")
        matrix = self.features.transform(list(texts))
        out = {}
        for head, labels in self.heads.items():
            classifier = self.classifiers[head]
            probs = classifier.predict_proba(matrix)
            full = np.zeros((len(texts), len(labels)), dtype=float)
            for column, label in enumerate(classifier.classes_):
                full[:, labels.index(label)] = probs[:, column]
            out[head] = full
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "heads": self.heads,
                "C": self.C,
                "seed": self.seed,
                "features": self.features,
                "classifiers": self.classifiers,
            },
            directory / MODEL_FILE,
        )

    @classmethod
    def load(cls, directory: Path, manifest: dict) -> LinearTextModel:
        path = Path(directory) / MODEL_FILE
        try:
            state = joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
            raise ArtifactError(
                f"model artifact file cannot be loaded: {path} ({type(exc).__name__})"
            ) from None
        model = cls(state["heads"], C=state["C"], seed=state["seed"])
        model.features = state["features"]
        model.classifiers = state["classifiers"]
        return model
