"""A reward model learned from preference pairs: linear Bradley-Terry on MiniLM sentence vectors.

A reply's reward is ``w · f(context, reply)``, where ``f`` is the reply's sentence vector, the
element-wise product of the context's and the reply's vectors (does the reply speak to what was
said), and a few plain features (length, question, sentences, second person, directive words).
``P(chosen beats rejected) = sigmoid(r(chosen) - r(rejected))`` (Bradley-Terry); the weights are
an L2-regularised logistic regression without intercept on feature differences, each pair shown
in both orders. A pair's weight carries the clinicians' per-dimension scores (empathy, presence,
stabilization, safety): a wide score gap weighs more than a narrow one.

The encoder is the installed int8 all-MiniLM-L6-v2 (:mod:`training_jobs.ml.encoder`), as for the
classifiers: nothing is downloaded, nothing is fine-tuned.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training_jobs.ml.artifact import read_manifest, write_manifest

WEIGHTS_FILE = "reward.npz"
PLAIN_FEATURES = ("log_words", "question", "sentences", "second_person", "directive")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)")
_SECOND = {"you", "your", "you're", "yourself", "du", "tu", "usted", "vous"}
_DIRECTIVE = re.compile(r"\b(should|must|have to|need to|just|calm down|get over)\b", re.I)


@dataclass(frozen=True)
class Pair:
    """One preference: ``chosen`` beat ``rejected`` after ``context`` (the user's last turns)."""

    context: str
    chosen: str
    rejected: str
    weight: float = 1.0
    group: str = ""  # pairs of one comparison stay on one side of a split


def context_text(messages: Sequence[dict], turns: int = 2) -> str:
    """The last ``turns`` user messages of a messages-format context, oldest first."""
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    return " ".join(users[-turns:]).strip()


def plain_features(text: str) -> list[float]:
    words = _WORD.findall(text.lower())
    n = max(1, len(words))
    return [
        float(np.log1p(len(words))),
        1.0 if "?" in text else 0.0,
        float(max(1, len(_SENTENCE.findall(text)))),
        sum(w in _SECOND for w in words) / n,
        float(len(_DIRECTIVE.findall(text))),
    ]


def _encode(texts: Sequence[str]) -> np.ndarray:
    from training_jobs.ml.encoder import get_encoder

    return get_encoder().encode(list(texts))


class RewardModel:
    def __init__(self, weights: np.ndarray, mean: np.ndarray, scale: np.ndarray):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @staticmethod
    def raw_features(contexts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
        vectors = _encode(list(contexts) + list(replies))
        ctx, rep = vectors[: len(contexts)], vectors[len(contexts) :]
        plain = np.asarray([plain_features(r) for r in replies], dtype=np.float64)
        return np.hstack([rep, ctx * rep, plain])

    def features(self, contexts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
        return (self.raw_features(contexts, replies) - self.mean) / self.scale

    def score(self, contexts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
        """The reward of each (context, reply); only differences between replies mean anything."""
        if not replies:
            return np.zeros(0)
        return self.features(contexts, replies) @ self.weights

    def save(self, directory: Path, manifest: dict) -> dict:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / WEIGHTS_FILE, weights=self.weights, mean=self.mean, scale=self.scale)
        return write_manifest(directory, manifest)

    @classmethod
    def load(cls, directory: Path | str) -> RewardModel:
        directory = Path(directory)
        manifest = read_manifest(directory)
        if manifest.get("kind") != "reward":
            raise ValueError(f"{directory} is not a reward model artifact")
        data = np.load(directory / WEIGHTS_FILE)
        return cls(data["weights"], data["mean"], data["scale"])


def fit_bradley_terry(pairs: Sequence[Pair], *, c: float = 0.5, seed: int = 0) -> RewardModel:
    """Fit the linear Bradley-Terry reward on ``pairs`` (needs at least two)."""
    from sklearn.linear_model import LogisticRegression

    if len(pairs) < 2:
        raise ValueError("a reward model needs at least two preference pairs")
    contexts = [p.context for p in pairs]
    chosen = RewardModel.raw_features(contexts, [p.chosen for p in pairs])
    rejected = RewardModel.raw_features(contexts, [p.rejected for p in pairs])
    both = np.vstack([chosen, rejected])
    mean = both.mean(axis=0)
    scale = both.std(axis=0)
    scale[scale < 1e-6] = 1.0
    diff = ((chosen - mean) / scale) - ((rejected - mean) / scale)
    x = np.vstack([diff, -diff])
    y = np.concatenate([np.ones(len(pairs)), np.zeros(len(pairs))])
    weights = np.asarray([p.weight for p in pairs] * 2, dtype=np.float64)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000, random_state=seed)
    model.fit(x, y, sample_weight=weights)
    return RewardModel(model.coef_.ravel(), mean, scale)


def pairwise_accuracy(scores_chosen: Sequence[float], scores_rejected: Sequence[float]) -> float:
    """Share of pairs whose chosen reply scores higher (a tie counts half)."""
    if len(scores_chosen) == 0:
        return float("nan")
    wins = sum(
        1.0 if c > r else 0.5 if c == r else 0.0
        for c, r in zip(scores_chosen, scores_rejected, strict=True)
    )
    return round(wins / len(scores_chosen), 4)


def evaluate_pairs(model: RewardModel | None, pairs: Sequence[Pair], *, seed: int = 0) -> dict:
    """Pairwise accuracy of ``model`` on ``pairs``, with the length baseline (the longer reply
    wins) and a seeded random baseline."""
    if not pairs:
        return {"n": 0}
    rng = random.Random(seed)
    longer = pairwise_accuracy([len(p.chosen) for p in pairs], [len(p.rejected) for p in pairs])
    chance = pairwise_accuracy([rng.random() for _ in pairs], [rng.random() for _ in pairs])
    out = {"n": len(pairs), "length_baseline": longer, "random_baseline": chance}
    if model is not None:
        contexts = [p.context for p in pairs]
        out["accuracy"] = pairwise_accuracy(
            model.score(contexts, [p.chosen for p in pairs]).tolist(),
            model.score(contexts, [p.rejected for p in pairs]).tolist(),
        )
    return out


def split_pairs(
    pairs: Sequence[Pair], *, heldout_fraction: float, seed: int
) -> tuple[list[Pair], list[Pair]]:
    """Train and held-out pairs, split by ``group`` (one comparison never on both sides)."""
    groups = sorted({p.group or f"pair-{i}" for i, p in enumerate(pairs)})
    random.Random(seed).shuffle(groups)
    n_held = max(1, round(len(groups) * heldout_fraction)) if len(groups) > 1 else 0
    held = set(groups[:n_held])
    train: list[Pair] = []
    heldout: list[Pair] = []
    for i, p in enumerate(pairs):
        (heldout if (p.group or f"pair-{i}") in held else train).append(p)
    return train, heldout


def kakoverse_pairs(directory: Path) -> list[Pair]:
    """Preference pairs from KakoVerse conversations (``../shared/data/kakoverse``, Apache-2.0):
    at every supporter turn, the reply with the higher care level beats the lower. The context
    is the seeker's message. Empty when the folder is absent."""
    pairs: list[Pair] = []
    folder = directory / "conversations"
    if not folder.is_dir():
        return pairs
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        for conversation in data if isinstance(data, list) else [data]:
            for turn in conversation.get("turns", []):
                replies = [
                    r
                    for r in turn.get("supporter_responses", [])
                    if isinstance(r.get("care_level"), int | float) and r.get("message")
                ]
                group = f"{path.stem}:{turn.get('turn_index')}"
                for a in replies:
                    for b in replies:
                        if a["care_level"] > b["care_level"]:
                            pairs.append(
                                Pair(
                                    turn.get("seeker_message", ""),
                                    a["message"],
                                    b["message"],
                                    1.0,
                                    group,
                                )
                            )
    return pairs
