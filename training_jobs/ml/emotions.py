"""Training the emotion model on GoEmotions and measuring it (``python manage.py train_emotions``).

Two models score the 28 GoEmotions labels, one logistic regression per label (multi-label):

- ``tfidf-lr``, the baseline: TF-IDF word 1-2 grams (seen twice or more) and character 2-5
  grams (the 50,000 most frequent);
- ``minilm-lr``: the project's MiniLM sentence vectors (``training_jobs.ml.encoder``);

and the served model is ``minilm-lr`` blended with ``tfidf-lr``,
``blend * tfidf + (1 - blend) * minilm``, the weight chosen on dev (0 to 0.9: the served model
always reads the sentence vectors). ``quick`` training (no encoder, about a minute) serves
``tfidf-lr`` alone (weight 1).

Everything is tuned on GoEmotions dev only and reported once on test: the embedding model's C,
the blend, a threshold per label (28-label metric: a label is predicted when its probability
clears its own threshold) and a threshold per coaching feeling (the served decision of
``conversations.understanding.emotions``, cues included). Choices between candidates (C, blend)
use two-fold cross-fitting on dev: thresholds tuned on one half are scored on the other.

Gold coaching feeling of a GoEmotions row (:func:`coaching_gold`): the coaching feeling of its
labels when they name exactly one besides ``mixed`` (sad beside one other gives way to it), else
``mixed`` (none, or several: "mixed = unclear or several").
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from conversations.understanding.emotions import (
    CONFIG_FILE,
    HEADS_FILE,
    KIND,
    TFIDF_FILE,
    decide_indices,
    feeling_scores,
)
from conversations.understanding.lexicon import (
    MIXED,
    FeelingsConfig,
    cue_hits,
    feelings_config,
    ranked_feelings,
)
from training_jobs.ml.artifact import write_manifest
from training_jobs.ml.metrics import classification_metrics
from training_jobs.ml.text import clean

GOEMOTIONS_DIR = Path(__file__).resolve().parent.parent / "datasets" / "goemotions"
SPLITS = ("train", "dev", "test")
LABEL_GRID = np.round(np.arange(0.02, 0.951, 0.01), 4)
FEELING_GRID = np.round(np.arange(0.05, 0.951, 0.025), 4)
GENERIC = "sad"  # gives way to a more specific feeling in a row's labels (coaching_gold)
TFIDF_C = 2.0  # chosen on dev (macro F1 0.510 at C=2, 0.505 at C=4)
CHAR_FEATURES = 50_000


@dataclass(frozen=True)
class Split:
    texts: list[str]  # cleaned as at serving (training_jobs.ml.text.clean)
    targets: np.ndarray  # (n, 28) of 0/1

    def take(self, rows: Sequence[int]) -> Split:
        rows = list(rows)
        return Split([self.texts[i] for i in rows], self.targets[rows])


@dataclass
class EmotionTrainSettings:
    embedding_C: tuple[float, ...] = (0.5, 2.0, 8.0)
    tfidf_C: float = TFIDF_C
    blends: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(10))
    quick: bool = False  # tfidf-lr only: no encoder, no blend
    # Subsample for quick runs and tests: at most N rows per label (rarest labels first).
    per_label: dict[str, int] | None = None
    seed: int = 13
    vector_cache: Path | None = None  # a directory for sentence vectors (re-runs skip encoding)


@dataclass
class EmotionTrainResult:
    report: dict
    artifact: Path
    predictions: dict = field(default_factory=dict)  # test-split decisions (tests recompute)


# --- data ------------------------------------------------------------------------------------


def read_labels(directory: Path = GOEMOTIONS_DIR) -> list[str]:
    return (directory / "labels.txt").read_text(encoding="utf-8").split()


def read_split(directory: Path, split: str, n_labels: int) -> Split:
    texts, rows = [], []
    path = directory / f"{split}.tsv"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path}:{number}: expected text<TAB>label ids")
        ids = [int(x) for x in parts[1].split(",") if x.strip()]
        if not ids or any(not 0 <= i < n_labels for i in ids):
            raise ValueError(f"{path}:{number}: label ids out of range")
        texts.append(clean(parts[0]))
        rows.append(ids)
    targets = np.zeros((len(texts), n_labels), dtype=np.int8)
    for i, ids in enumerate(rows):
        targets[i, ids] = 1
    return Split(texts, targets)


def stratified_rows(targets: np.ndarray, per_label: int, seed: int) -> list[int]:
    """Up to ``per_label`` rows for every label, rarest label first, in a seeded order."""
    order = list(range(len(targets)))
    random.Random(seed).shuffle(order)
    picked: set[int] = set()
    counts = targets.sum(axis=0)
    for label in np.argsort(counts, kind="stable"):
        have = sum(int(targets[i, label]) for i in picked)
        for i in order:
            if have >= per_label:
                break
            if targets[i, label] and i not in picked:
                picked.add(i)
                have += 1
    return sorted(picked)


def data_fingerprint(directory: Path) -> dict:
    return {
        name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in ("labels.txt", *(f"{s}.tsv" for s in SPLITS))
    }


# --- metrics ---------------------------------------------------------------------------------


def multilabel_f1(targets: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Binary F1 per label (0 when a label has neither gold nor predicted rows)."""
    gold, guess = targets.astype(bool), predicted.astype(bool)
    tp = (gold & guess).sum(axis=0).astype(float)
    denominator = gold.sum(axis=0) + guess.sum(axis=0)
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def multilabel_macro_f1(targets: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> float:
    """Macro F1 over the labels with gold rows in ``targets``."""
    predicted = (probs >= thresholds).astype(np.int8)
    f1 = multilabel_f1(targets.astype(np.int8), predicted)
    supported = targets.sum(axis=0) > 0
    return float(f1[supported].mean()) if supported.any() else 0.0


def tune_label_thresholds(targets: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per label, the threshold of ``LABEL_GRID`` with the best F1 (0.5 without gold rows)."""
    thresholds = np.full(targets.shape[1], 0.5)
    for j in range(targets.shape[1]):
        gold = targets[:, j].astype(bool)
        if not gold.any():
            continue
        predicted = probs[:, j][:, None] >= LABEL_GRID[None, :]
        tp = (predicted & gold[:, None]).sum(axis=0)
        f1 = 2 * tp / np.maximum(predicted.sum(axis=0) + gold.sum(), 1)
        thresholds[j] = LABEL_GRID[int(np.argmax(f1))]
    return thresholds


def coaching_gold(targets: np.ndarray, labels: Sequence[str], mapping: dict[str, str]) -> list:
    """The feeling a row's labels name: exactly one besides mixed; sad beside one other feeling
    gives way to it (grief, remorse or embarrassment is usually labelled with sadness too);
    else mixed (no feeling, or several)."""
    gold = []
    for row in targets:
        named = {mapping[labels[j]] for j in np.flatnonzero(row)} - {MIXED}
        if len(named) == 2 and GENERIC in named:
            named.discard(GENERIC)
        gold.append(named.pop() if len(named) == 1 else MIXED)
    return gold


def coaching_macro_f1(gold: Sequence[str], predicted: Sequence[str], feelings) -> float:
    """The reported figure: ``training_jobs.ml.metrics`` macro F1 (feelings with gold rows)."""
    return classification_metrics(gold, predicted, feelings)["macro_f1"]


def _macro_f1_indices(gold: np.ndarray, predicted: np.ndarray, n: int) -> float:
    """:func:`coaching_macro_f1` on index arrays, in numpy (threshold tuning calls it often)."""
    tp = np.bincount(gold[gold == predicted], minlength=n).astype(float)
    support = np.bincount(gold, minlength=n)
    guessed = np.bincount(predicted, minlength=n)
    f1 = np.where(support + guessed > 0, 2 * tp / np.maximum(support + guessed, 1), 0.0)
    return float(f1[support > 0].mean()) if (support > 0).any() else 0.0


def tune_feeling_thresholds(
    scores: np.ndarray,
    gold: np.ndarray,
    cue_index: np.ndarray,
    feelings: Sequence[str],
    *,
    rounds: int = 3,
) -> np.ndarray:
    """Per coaching feeling, a threshold for the served decision: coordinate ascent on macro F1
    (``gold`` and ``cue_index`` are indices into ``feelings``; feelings no GoEmotions label
    maps to keep 1.0, so only cues raise them)."""
    n = len(feelings)
    thresholds = np.full(n, 1.0)
    tunable = [
        k for k, f in enumerate(feelings) if f != MIXED and float(scores[:, k].max(initial=0)) > 0
    ]
    thresholds[tunable] = 0.3

    def f1_of(trial):
        return _macro_f1_indices(gold, decide_indices(scores, trial, feelings, cue_index), n)

    best = f1_of(thresholds)
    for _ in range(rounds):
        improved = False
        for k in tunable:
            for value in FEELING_GRID:
                trial = thresholds.copy()
                trial[k] = value
                f1 = f1_of(trial)
                if f1 > best + 1e-9:
                    best, thresholds, improved = f1, trial, True
        if not improved:
            break
    return thresholds


# --- models ----------------------------------------------------------------------------------


def tfidf_features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a regex, not a password
                    dtype=np.float32,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=CHAR_FEATURES,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def fit_one_vs_rest(features, targets: np.ndarray, *, C: float, seed: int) -> tuple:
    """``(W (n_features, n_labels), b (n_labels,))``, one logistic regression per label."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    n_features, n_labels = features.shape[1], targets.shape[1]
    weights = np.zeros((n_features, n_labels), dtype=np.float32)
    bias = np.full(n_labels, -10.0, dtype=np.float32)  # a label never seen is never predicted
    wide = sparse.issparse(features)
    for j in range(n_labels):
        y = targets[:, j]
        if y.min() == y.max():
            continue
        model = LogisticRegression(
            C=C,
            # liblinear's dual form is the fast one for wide sparse n-grams, lbfgs for vectors
            solver="liblinear" if wide else "lbfgs",
            dual=wide and n_features > features.shape[0],
            max_iter=1000,
            random_state=seed,
        )
        model.fit(features, y)
        weights[:, j] = model.coef_[0]
        bias[j] = model.intercept_[0]
    return weights, bias


def _sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=np.float64), -30.0, 30.0)))


def encode_texts(texts: list[str], cache: Path | None, log: Callable[[str], None]) -> np.ndarray:
    """Sentence vectors of ``texts`` (from ``cache`` when these texts were encoded before by
    the same encoder)."""
    from training_jobs.ml.encoder import get_encoder

    encoder = get_encoder()
    path = None
    if cache is not None:
        digest = hashlib.sha256(json.dumps(encoder.identity, sort_keys=True).encode())
        for text in texts:
            digest.update(text.encode("utf-8") + b"\0")
        path = Path(cache) / f"vectors-{digest.hexdigest()[:24]}.npy"
        if path.is_file():
            log(f"sentence vectors from {path}")
            return np.load(path)
    started = time.perf_counter()
    vectors = encoder._encode_uncached(texts)  # no point filling the LRU cache with a corpus
    log(f"encoded {len(texts)} texts in {time.perf_counter() - started:.0f} s")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def _halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n // 2], order[n // 2 :]


def _cross_fit(score: Callable[[np.ndarray, np.ndarray], float], n: int, seed: int) -> float:
    """Mean of ``score(tune_rows, eval_rows)`` over the two halves of dev."""
    a, b = _halves(n, seed)
    return (score(a, b) + score(b, a)) / 2.0


# --- the run ---------------------------------------------------------------------------------


def _cue_indices(texts: Sequence[str], config: FeelingsConfig) -> np.ndarray:
    """Per text, the index of the feeling its cues name (-1 for none)."""
    out = []
    for text in texts:
        ranked = ranked_feelings(cue_hits(text, config), config.priority)
        out.append(config.feelings.index(ranked[0]) if ranked else -1)
    return np.array(out, dtype=np.int64)


def _names(indices: np.ndarray, feelings: Sequence[str]) -> list[str]:
    return [feelings[i] for i in indices]


def _evaluate(
    name: str,
    probs: dict[str, np.ndarray],
    data: dict[str, Split],
    gold: dict[str, np.ndarray],
    cues: dict[str, np.ndarray],
    labels: Sequence[str],
    config: FeelingsConfig,
    seed: int,
) -> dict:
    """Thresholds tuned on dev, figures on dev and test, for one model's probabilities."""
    feelings = config.feelings
    label_thresholds = tune_label_thresholds(data["dev"].targets, probs["dev"])
    scores = {
        s: feeling_scores(probs[s], labels, config.goemotions, feelings) for s in ("dev", "test")
    }
    thresholds = tune_feeling_thresholds(scores["dev"], gold["dev"], cues["dev"], feelings)
    no_cues = {s: np.full(len(gold[s]), -1) for s in ("dev", "test")}
    decided = {
        s: _names(decide_indices(scores[s], thresholds, feelings, cues[s]), feelings)
        for s in ("dev", "test")
    }
    model_only = _names(
        decide_indices(scores["test"], thresholds, feelings, no_cues["test"]), feelings
    )
    gold_names = {s: _names(gold[s], feelings) for s in ("dev", "test")}

    def cross_fit_28(tune, held):
        th = tune_label_thresholds(data["dev"].targets[tune], probs["dev"][tune])
        return multilabel_macro_f1(data["dev"].targets[held], probs["dev"][held], th)

    test_metrics = classification_metrics(gold_names["test"], decided["test"], feelings)
    predicted_test = (probs["test"] >= label_thresholds).astype(np.int8)
    per_label = multilabel_f1(data["test"].targets, predicted_test)
    return {
        "backend": name,
        "label_macro_f1": {
            "test": round(
                multilabel_macro_f1(data["test"].targets, probs["test"], label_thresholds), 4
            ),
            "dev": round(
                multilabel_macro_f1(data["dev"].targets, probs["dev"], label_thresholds), 4
            ),
            "dev_cross_fit": round(_cross_fit(cross_fit_28, len(gold["dev"]), seed), 4),
        },
        "coaching_macro_f1": {
            "test": round(test_metrics["macro_f1"], 4),
            "dev": round(coaching_macro_f1(gold_names["dev"], decided["dev"], feelings), 4),
            "dev_cross_fit": round(
                _coaching_cross_fit(scores["dev"], gold["dev"], cues["dev"], feelings, seed), 4
            ),
            "test_model_only": round(
                coaching_macro_f1(gold_names["test"], model_only, feelings), 4
            ),
        },
        "coaching_accuracy_test": test_metrics["accuracy"],
        "coaching_per_feeling_test": test_metrics["per_class"],
        "coaching_confusion_test": test_metrics["confusion_matrix"],
        "label_f1_test": {labels[j]: round(float(per_label[j]), 4) for j in range(len(labels))},
        "label_thresholds": {labels[j]: float(label_thresholds[j]) for j in range(len(labels))},
        "feeling_thresholds": {f: float(t) for f, t in zip(feelings, thresholds, strict=True)},
        "_test_decided": decided["test"],
        "_test_label_predictions": predicted_test,
    }


def _coaching_cross_fit(
    scores: np.ndarray, gold: np.ndarray, cues: np.ndarray, feelings: Sequence[str], seed: int
) -> float:
    """Coaching macro F1 on one half of dev with thresholds tuned on the other, averaged."""

    def score(tune, held):
        th = tune_feeling_thresholds(scores[tune], gold[tune], cues[tune], feelings, rounds=2)
        decided = decide_indices(scores[held], th, feelings, cues[held])
        return _macro_f1_indices(gold[held], decided, len(feelings))

    return _cross_fit(score, len(gold), seed)


def _train_tfidf(data: dict[str, Split], s: EmotionTrainSettings) -> tuple:
    features = tfidf_features()
    matrix = features.fit_transform(data["train"].texts)
    W, b = fit_one_vs_rest(matrix, data["train"].targets, C=s.tfidf_C, seed=s.seed)
    probs = {
        split: _sigmoid(features.transform(data[split].texts) @ W + b) for split in ("dev", "test")
    }
    return features, W, b, probs


def _train_embedding(
    data: dict[str, Split], vectors: dict[str, np.ndarray], s: EmotionTrainSettings, log
) -> tuple:
    """The C of ``s.embedding_C`` with the best cross-fitted 28-label macro F1 on dev."""
    candidates = {}
    for C in s.embedding_C:
        W, b = fit_one_vs_rest(vectors["train"], data["train"].targets, C=C, seed=s.seed)
        dev_probs = _sigmoid(vectors["dev"] @ W + b)

        def held_out_f1(tune, held, dev_probs=dev_probs):
            th = tune_label_thresholds(data["dev"].targets[tune], dev_probs[tune])
            return multilabel_macro_f1(data["dev"].targets[held], dev_probs[held], th)

        candidates[C] = (round(_cross_fit(held_out_f1, len(dev_probs), s.seed), 4), W, b)
        log(f"minilm-lr C={C}: dev macro F1 (cross-fit) {candidates[C][0]:.4f}")
    best_C = max(candidates, key=lambda c: (candidates[c][0], -c))
    _, W, b = candidates[best_C]
    probs = {split: _sigmoid(vectors[split] @ W + b) for split in ("dev", "test")}
    return best_C, {str(c): v[0] for c, v in candidates.items()}, W, b, probs


def _choose_blend(tfidf_probs, emb_probs, gold, cues, labels, config, s) -> tuple:
    """The blend weight with the best cross-fitted coaching macro F1 on dev (the served
    decision); ties go to the smaller weight."""
    by_weight = {}
    for w in s.blends:
        probs = w * tfidf_probs["dev"] + (1 - w) * emb_probs["dev"]
        scores = feeling_scores(probs, labels, config.goemotions, config.feelings)
        by_weight[w] = round(
            _coaching_cross_fit(scores, gold["dev"], cues["dev"], config.feelings, s.seed), 4
        )
    best = max(by_weight, key=lambda w: (by_weight[w], -w))
    return best, {str(k): v for k, v in by_weight.items()}


def _new_version_dir(out_root: Path) -> Path:
    stamp = "emotions-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    directory, suffix = Path(out_root) / stamp, 1
    while directory.exists():
        suffix += 1
        directory = Path(out_root) / f"{stamp}-{suffix}"
    return directory


def train_emotion_models(
    *,
    out_root: Path,
    data_dir: Path = GOEMOTIONS_DIR,
    train_settings: EmotionTrainSettings | None = None,
    log: Callable[[str], None] = print,
) -> EmotionTrainResult:
    """Train both models (``quick``: the TF-IDF one), choose the served blend, measure, and
    write the served artifact to ``out_root/<version>/``. The report is what
    ``bench-results/emotions.json`` holds."""
    s = train_settings or EmotionTrainSettings()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    config = feelings_config()
    labels = read_labels(data_dir)
    missing = [label for label in labels if label not in config.goemotions]
    if missing:
        raise ValueError(f"feelings.yaml maps no feeling to GoEmotions labels {missing}")
    data = {split: read_split(data_dir, split, len(labels)) for split in SPLITS}
    if s.per_label:
        data = {
            split: data[split].take(
                stratified_rows(data[split].targets, s.per_label[split], s.seed)
            )
            for split in SPLITS
        }
    log("rows: " + ", ".join(f"{k} {len(v.texts)}" for k, v in data.items()))
    index = {f: i for i, f in enumerate(config.feelings)}
    gold = {
        k: np.array([index[f] for f in coaching_gold(v.targets, labels, config.goemotions)])
        for k, v in data.items()
    }
    cues = {k: _cue_indices(v.texts, config) for k, v in data.items() if k != "train"}

    mark = time.perf_counter()
    features, tfidf_W, tfidf_b, tfidf_probs = _train_tfidf(data, s)
    timings["tfidf_seconds"] = round(time.perf_counter() - mark, 1)
    log(f"tfidf-lr trained in {timings['tfidf_seconds']:.0f} s")
    rows = [_evaluate("tfidf-lr", tfidf_probs, data, gold, cues, labels, config, s.seed)]
    report_extra: dict = {"tfidf_C": s.tfidf_C}
    emb = None
    if s.quick:
        blend, served = 1.0, rows[0]
    else:
        mark = time.perf_counter()
        vectors = {split: encode_texts(data[split].texts, s.vector_cache, log) for split in SPLITS}
        timings["encode_seconds"] = round(time.perf_counter() - mark, 1)
        mark = time.perf_counter()
        best_C, by_C, emb_W, emb_b, emb_probs = _train_embedding(data, vectors, s, log)
        emb = (emb_W, emb_b)
        timings["embedding_seconds"] = round(time.perf_counter() - mark, 1)
        blend, by_weight = _choose_blend(tfidf_probs, emb_probs, gold, cues, labels, config, s)
        log(f"blend weight of tfidf-lr: {blend} (dev cross-fit coaching macro F1 {by_weight})")
        rows.append(_evaluate("minilm-lr", emb_probs, data, gold, cues, labels, config, s.seed))
        served = rows[-1]
        if blend > 0:
            probs = {k: blend * tfidf_probs[k] + (1 - blend) * emb_probs[k] for k in emb_probs}
            name = f"served: minilm-lr + {blend} tfidf-lr"
            rows.append(_evaluate(name, probs, data, gold, cues, labels, config, s.seed))
            served = rows[-1]
        report_extra.update(
            embedding_C=best_C, embedding_C_dev_cross_fit=by_C, blend_dev_cross_fit=by_weight
        )
    timings["total_seconds"] = round(time.perf_counter() - started, 1)

    directory = _new_version_dir(out_root)
    report = {
        "version": directory.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": "GoEmotions (Demszky et al., ACL 2020), Apache-2.0",
            "rows": {k: len(v.texts) for k, v in data.items()},
            "subsample_per_label": s.per_label,
            "sha256": data_fingerprint(data_dir),
        },
        "metric_28_labels": "macro F1 over the 28 labels (those with test rows), multi-label: "
        "a label is predicted when its probability clears its own threshold, tuned on dev",
        "metric_coaching": "macro F1 over the coaching feelings with test rows (single label: "
        "a cue, else the best feeling that clears its dev-tuned threshold, else mixed)",
        "feelings_version": config.version,
        "mapping": dict(config.goemotions),
        "quick": s.quick,
        "blend": blend,
        "served_backend": served["backend"],
        **report_extra,
        "rows": [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows],
        "timings": timings,
        "encoder": _encoder_identity() if emb is not None else None,
        "versions": _library_versions(),
    }
    _write_artifact(
        directory,
        labels=labels,
        config=config,
        served=served,
        blend=blend,
        emb=emb,
        tfidf=(features, tfidf_W, tfidf_b),
        report=report,
    )
    report["artifact"] = str(directory)
    log(f"served artifact: {directory}")
    predictions = {
        "labels": labels,
        "feelings": list(config.feelings),
        "test_targets": data["test"].targets,
        "test_gold_feelings": _names(gold["test"], config.feelings),
        "rows": {
            row["backend"]: {
                "decided": row["_test_decided"],
                "label_predictions": row["_test_label_predictions"],
            }
            for row in rows
        },
    }
    return EmotionTrainResult(report=report, artifact=directory, predictions=predictions)


def _encoder_identity() -> dict:
    from training_jobs.ml.encoder import get_encoder

    return get_encoder().identity


def _library_versions() -> dict:
    import sklearn

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["scikit-learn"] = sklearn.__version__
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - the encoder needs it anyway
        pass
    return versions


def _write_artifact(
    directory: Path,
    *,
    labels: list[str],
    config: FeelingsConfig,
    served: dict,
    blend: float,
    emb: tuple | None,
    tfidf: tuple,
    report: dict,
) -> None:
    """heads.npz (weights), tfidf.joblib (the n-gram vocabularies, when blended), emotions.json
    (labels, mapping, thresholds, blend, encoder) and the manifest with every file's sha256."""
    import joblib

    directory.mkdir(parents=True)
    heads = {}
    if blend < 1.0:
        if emb is None:
            raise ValueError("a blend under 1 needs the embedding head's weights")
        heads["embedding_W"] = emb[0].astype(np.float32)
        heads["embedding_b"] = emb[1].astype(np.float32)
    if blend > 0.0:
        features, W, b = tfidf
        joblib.dump(features, directory / TFIDF_FILE, compress=3)
        heads["tfidf_W"] = W.astype(np.float16)  # 5 MB instead of 11; scores differ < 1e-3
        heads["tfidf_b"] = b.astype(np.float32)
    np.savez_compressed(directory / HEADS_FILE, **heads)
    served_config = {
        "labels": labels,
        "feelings": list(config.feelings),
        "mapping": dict(config.goemotions),
        "feelings_version": config.version,
        "blend": blend,
        "label_thresholds": served["label_thresholds"],
        "feeling_thresholds": served["feeling_thresholds"],
        "encoder": report["encoder"],
    }
    (directory / CONFIG_FILE).write_text(json.dumps(served_config, indent=2), encoding="utf-8")
    write_manifest(
        directory,
        {
            "kind": KIND,
            "backend": served["backend"],
            "labels": labels,
            "version": directory.name,
            "created": report["created"],
            "metrics": {
                "label_macro_f1_test": served["label_macro_f1"]["test"],
                "coaching_macro_f1_test": served["coaching_macro_f1"]["test"],
            },
            "settings": {k: report.get(k) for k in ("embedding_C", "tfidf_C", "blend", "quick")},
            "data_sha256": report["data"]["sha256"],
            "versions": report["versions"],
        },
    )
