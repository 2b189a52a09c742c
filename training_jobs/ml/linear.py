"""The fast backend: TF-IDF word (1-2) and char (2-5) n-grams, a logistic regression per head.

Training uses scikit-learn. Serving scores one message at a time, where scikit-learn's sparse
matrix machinery costs far more than the arithmetic, so a fitted model is *compiled* into plain
look-up tables (n-gram -> column, idf, the classifiers' weights by column) and scored with a
dictionary look-up per n-gram and one small dense product. ``predict_proba`` gives the same
probabilities as scikit-learn's pipeline (tests compare them); ``predict_proba_sklearn`` is the
reference path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


# Words whose character n-gram columns a compiled char_wb vectorizer remembers (a few MB).
WORD_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class CompiledTfidf:
    """A fitted ``TfidfVectorizer`` (l2 norm) as plain look-up tables: one text's tf-idf row is
    a dictionary look-up per n-gram, without scikit-learn's per-call overhead.

    ``char_wb`` n-grams never cross whitespace, so a text's n-grams are the sum of its words':
    their columns are remembered per word (a bounded cache, cleared when full), and a text made
    of words seen before costs one look-up per word.
    """

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # first column of this vectorizer in a feature union
    sublinear_tf: bool
    per_word: bool  # a char_wb analyzer
    _word_columns: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def _columns_and_counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self.per_word:
            parts = [self._columns_of_word(word) for word in text.split()]
            columns = np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)
            return np.unique(columns, return_counts=True)
        look_up = self.vocabulary.get
        found: dict[int, int] = {}
        for term, n in Counter(self.analyze(text)).items():
            j = look_up(term)
            if j is not None:
                found[j] = n
        return (
            np.fromiter(found.keys(), dtype=np.intp, count=len(found)),
            np.fromiter(found.values(), dtype=np.intp, count=len(found)),
        )

    def _columns_of_word(self, word: str) -> np.ndarray:
        columns = self._word_columns.get(word)
        if columns is None:
            look_up = self.vocabulary.get
            found = [j for term in self.analyze(word) if (j := look_up(term)) is not None]
            columns = np.array(found, dtype=np.intp)
            if len(self._word_columns) >= WORD_CACHE_SIZE:
                self._word_columns.clear()
            self._word_columns[word] = columns
        return columns

    def terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Columns (within this vectorizer) and values of ``text``'s row, exactly as
        ``transform`` makes them."""
        local, counts = self._columns_and_counts(text)
        tf = counts.astype(np.float64)
        if self.sublinear_tf and len(tf):
            tf = np.log(tf) + 1.0
        weighted = tf * self.idf[local]
        norm = math.sqrt(float(weighted @ weighted))
        if norm > 0:
            weighted /= norm
        return local, weighted

    def dense(self, text: str) -> np.ndarray:
        """``text``'s row as a dense vector (for products with a small sparse matrix)."""
        row = np.zeros(len(self.idf))
        local, weighted = self.terms(text)
        row[local] = weighted
        return row


def compile_tfidf(vectorizer: TfidfVectorizer, *, offset: int = 0) -> CompiledTfidf:
    if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm != "l2":
        raise ValueError("the compiled scorer needs l2-normalised TfidfVectorizers")
    return CompiledTfidf(
        analyze=vectorizer.build_analyzer(),
        vocabulary=dict(vectorizer.vocabulary_),
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        offset=offset,
        sublinear_tf=bool(vectorizer.sublinear_tf),
        per_word=vectorizer.analyzer == "char_wb",
    )


@dataclass(frozen=True)
class _CompiledHead:
    labels: tuple[str, ...]  # column order of the output: ``heads[head]``
    weights: np.ndarray  # (n_features, n_outputs): one row per feature column
    intercept: np.ndarray
    binary: bool  # a two-class logistic regression (sigmoid) rather than multinomial (softmax)
    columns: np.ndarray  # output column -> position in ``labels``


def _compile_vectorizers(features: FeatureUnion) -> list[CompiledTfidf]:
    if features.transformer_weights:
        raise ValueError("weighted feature unions are not supported by the compiled scorer")
    compiled, offset = [], 0
    for _name, vectorizer in features.transformer_list:
        compiled.append(compile_tfidf(vectorizer, offset=offset))
        offset += len(vectorizer.vocabulary_)
    return compiled


def _compile_head(classifier: LogisticRegression, labels: Sequence[str]) -> _CompiledHead:
    coef = np.asarray(classifier.coef_, dtype=np.float64)
    return _CompiledHead(
        labels=tuple(labels),
        weights=np.ascontiguousarray(coef.T),
        intercept=np.asarray(classifier.intercept_, dtype=np.float64),
        binary=coef.shape[0] == 1,
        columns=np.array([list(labels).index(c) for c in classifier.classes_]),
    )


def _sparse_row(vectorizers: list[CompiledTfidf], text: str) -> tuple[list[int], np.ndarray]:
    """Columns and tf-idf values of one text, exactly as the fitted feature union makes them."""
    columns: list[int] = []
    values: list[np.ndarray] = []
    for vectorizer in vectorizers:
        local, weighted = vectorizer.terms(text)
        if not len(local):
            continue
        columns.extend((local + vectorizer.offset).tolist())
        values.append(weighted)
    return columns, (np.concatenate(values) if values else np.zeros(0))


def _head_proba(head: _CompiledHead, columns: list[int], values: np.ndarray) -> np.ndarray:
    z = values @ head.weights[columns] + head.intercept if columns else head.intercept.copy()
    if head.binary:
        p1 = 1.0 / (1.0 + math.exp(-float(z[0])))
        raw = np.array([1.0 - p1, p1])
    else:
        z = z - z.max()
        raw = np.exp(z)
        raw /= raw.sum()
    out = np.zeros(len(head.labels))
    out[head.columns] = raw
    return out


class LinearTextModel:
    backend = "linear"

    def __init__(self, heads: Mapping[str, Sequence[str]], *, C: float = 8.0, seed: int = 0):
        self.heads = {name: tuple(labels) for name, labels in heads.items()}
        self.C = C
        self.seed = seed
        self.features: FeatureUnion | None = None
        self.classifiers: dict[str, LogisticRegression] = {}
        self._compiled: tuple[list[CompiledTfidf], dict[str, _CompiledHead]] | None = None

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
            present = sorted({label for label in y if label is not None})
            if len(present) < 2:
                raise ValueError(
                    f"head '{head}' needs at least two labels in the training data, got {present}"
                )
            classifier = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=3000, random_state=self.seed
            )
            classifier.fit(matrix[keep], [y[i] for i in keep])
            self.classifiers[head] = classifier
            self._compiled = None
            if progress:
                progress((done + 1) / len(self.heads))
        return self

    def _compile(self) -> tuple[list[CompiledTfidf], dict[str, _CompiledHead]]:
        if self._compiled is None:
            if self.features is None:
                raise RuntimeError("model is not fitted")
            vectorizers = _compile_vectorizers(self.features)
            heads = {
                head: _compile_head(self.classifiers[head], labels)
                for head, labels in self.heads.items()
            }
            self._compiled = (vectorizers, heads)
        return self._compiled

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Probabilities per head, columns in the order of ``self.heads[head]`` (compiled)."""
        vectorizers, heads = self._compile()
        rows = [_sparse_row(vectorizers, text) for text in texts]
        return {
            head: np.array([_head_proba(compiled, c, v) for c, v in rows]).reshape(
                len(texts), len(compiled.labels)
            )
            for head, compiled in heads.items()
        }

    def predict_proba_sklearn(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The reference path through scikit-learn (same result as :meth:`predict_proba`)."""
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
        try:
            model._compile()  # once, at load: the first request should not pay for it
        except (AttributeError, KeyError, RuntimeError, ValueError) as exc:
            raise ArtifactError(
                f"model artifact file is not a usable linear model: {path} ({exc})"
            ) from None
        return model
