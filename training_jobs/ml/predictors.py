"""Serving: turn a trained model plus its stored thresholds into risk assessments and intents.

:func:`load_predictor` is what run time (``conversations.backends.classifiers``) and evaluation
both use, so the metrics stored on a model version describe exactly what is served.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from conversations.backends.base import IntentPrediction, RiskAssessment
from conversations.backends.safety_rules import apply_safety_net, rule_hits
from training_jobs.ml.artifact import ArtifactError, read_manifest
from training_jobs.ml.labels import RISK_LEVELS
from training_jobs.ml.text import clean, segment_plan
from training_jobs.ml.thresholds import safety_confidence

_IMMINENT = re.compile(
    r"\b(?:tonight|tonite|2night|right now|rn|today|now|this (?:morning|evening|afternoon|weekend)|"
    r"tomorrow|before (?:morning|dawn)|in an hour|goodbye|bye|last (?:message|time)|"
    r"esta noche|ahora|hoy|mañana|adiós|heute|jetzt|morgen|abschied)\b",
    re.IGNORECASE,
)
_SEVERITY = np.arange(len(RISK_LEVELS), dtype=float)
# A window of a long message decides only with at least this probability (a long message has
# many windows, and each is only a part of what the person wrote).
WINDOW_MIN_SCORE = 0.5


def urgency_for(level: str, text: str) -> str:
    """none/low/medium follow the level; high is ``immediate`` with timing or goodbye cues."""
    if level != "high":
        return level
    return "immediate" if _IMMINENT.search(text) else "high"


def load_model(directory: Path, manifest: dict):
    backend = manifest["backend"]
    if backend == "linear":
        from training_jobs.ml.linear import LinearTextModel

        return LinearTextModel.load(directory, manifest)
    if backend == "minilm":
        from training_jobs.ml.minilm import MiniLMTextModel

        return MiniLMTextModel.load(directory, manifest, quantize=True)
    if backend == "hybrid":
        from training_jobs.ml.hybrid import HybridTextModel

        return HybridTextModel.load(directory, manifest)
    raise ArtifactError(f"model artifact {directory} names unknown backend {backend!r}")


class SafetyPredictor:
    """Model + two thresholds + rule safety net: the three-way policy.

    - P(high) >= ``threshold``: high (the emergency flow);
    - P(high) >= ``possible`` (the "possible risk" band): at least medium, so the reply carries
      a gentle safety question and is never a plain coaching reply;
    - below: the most likely of none / low / medium.
    Both thresholds are chosen on leave-source-out scores and stored on the model version.
    """

    kind = "safety"

    def __init__(
        self,
        model,
        *,
        threshold: float,
        version: str,
        use_rules: bool = True,
        possible: float | None = None,
        context: dict | None = None,
    ):
        self.model = model
        self.threshold = float(threshold)
        self.possible = float(possible) if possible is not None else None
        self.version = version
        self.use_rules = use_rules
        # The message read with the user's earlier turns has its own thresholds when the version
        # stores them (chosen on held-out conversations): a calm answer after a sad story must
        # not read as a crisis because the story is sad. Older versions: the same thresholds.
        context = context or {}
        self.context_threshold = float(context.get("high", self.threshold))
        context_possible = context.get("possible", self.possible)
        self.context_possible = float(context_possible) if context_possible is not None else None

    def assess(self, text: str, history: Sequence[str] = ()) -> RiskAssessment:
        return self.assess_many([(text, tuple(history))])[0]

    def _scored(self, items: Sequence[tuple[str, Sequence[str]]]):
        """Per item: its segments' kinds and the model's level and category probabilities."""
        all_segments: list[str] = []
        plans: list[tuple[int, int, np.ndarray]] = []
        for text, history in items:
            plan = segment_plan(text, history)
            kinds = np.asarray([kind for kind, _ in plan])
            plans.append((len(all_segments), len(all_segments) + len(plan), kinds))
            all_segments.extend(segment for _, segment in plan)
        probs = self.model.predict_proba(all_segments) if all_segments else {}
        for start, end, kinds in plans:
            yield kinds, probs["level"][start:end], probs["category"][start:end]

    def assess_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[RiskAssessment]:
        """Score many messages at once: all their segments go through the model together."""
        return [
            self._decide(text, level_p, category_p, kinds)
            for (text, _history), (kinds, level_p, category_p) in zip(
                items, self._scored(items), strict=True
            )
        ]

    def high_scores(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[dict]:
        """Per item, P(high) of the message on its own (its windows that count included) and,
        when it has history, of the message read with it: what the thresholds are tuned on."""
        out = []
        for kinds, level_p, _ in self._scored(items):
            p_high = _counted_high(level_p, kinds)
            own = p_high[kinds != "context"]
            context = p_high[kinds == "context"]
            out.append(
                {
                    "message": float(own.max()),
                    "context": float(context.max()) if context.size else None,
                }
            )
        return out

    def _decide(
        self, text: str, level_p: np.ndarray, category_p: np.ndarray, kinds: np.ndarray
    ) -> RiskAssessment:
        high = RISK_LEVELS.index("high")
        is_window = kinds == "window"
        is_context = kinds == "context"
        # A window (part of a long message) counts only when the model is confident about it.
        confident = ~is_window | (level_p.max(axis=1) >= WINDOW_MIN_SCORE)
        p_high_each = _counted_high(level_p, kinds)
        high_at = np.where(is_context, self.context_threshold, self.threshold)
        possible = self.possible if self.possible is not None else np.inf
        context_possible = self.context_possible if self.context_possible is not None else np.inf
        possible_at = np.where(is_context, context_possible, possible)
        # The segment nearest its own threshold decides; its P(high) is the turn's score.
        decisive = int((p_high_each / np.maximum(high_at, 1e-9)).argmax())
        p_high = float(p_high_each[decisive])
        if (p_high_each >= high_at).any():
            chosen = decisive
            level = "high"
        else:
            severity = np.where(confident, level_p @ _SEVERITY, -1.0)
            chosen = int(severity.argmax())  # the most severe segment that counts
            level = RISK_LEVELS[int(level_p[chosen, :high].argmax())]
            if (p_high_each >= possible_at).any():
                chosen = decisive
                level = "medium"
        categories = self.model.heads["category"]
        category = categories[int(category_p[chosen].argmax())] if level != "none" else ""
        hits = rule_hits(text) if self.use_rules else []
        final_level, final_category = apply_safety_net(level, category, hits)
        in_context = bool(is_context[decisive])
        return RiskAssessment(
            level=final_level,
            category=final_category,
            urgency=urgency_for(final_level, clean(text)),
            score=round(p_high, 6),
            model_version=self.version,
            rule_hits=tuple(h.rule_id for h in hits),
            confidence=safety_confidence(
                p_high,
                high=float(high_at[decisive]),
                possible=self.context_possible if in_context else self.possible,
            ),
        )


def _counted_high(level_p: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """P(high) of each segment; a window's counts only at ``WINDOW_MIN_SCORE`` or more."""
    p_high = level_p[:, RISK_LEVELS.index("high")]
    return np.where((kinds != "window") | (p_high >= WINDOW_MIN_SCORE), p_high, 0.0)


class IntentPredictor:
    kind = "intent"

    def __init__(self, model, *, version: str):
        self.model = model
        self.version = version

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        if not texts:
            return []
        probs = self.model.predict_proba([clean(t) for t in texts])["intent"]
        labels = self.model.heads["intent"]
        return [
            IntentPrediction(
                intent=labels[int(row.argmax())],
                score=round(float(row.max()), 6),
                model_version=self.version,
            )
            for row in probs
        ]


def load_predictor(
    directory: Path | str, *, version: str | None = None, use_rules: bool = True
) -> SafetyPredictor | IntentPredictor:
    """Load an artifact directory into a :class:`SafetyPredictor` or :class:`IntentPredictor`.

    Raises :class:`ArtifactError` naming the path when the artifact is missing or damaged.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    model = load_model(directory, manifest)
    label = version or manifest.get("version") or directory.name
    if manifest["kind"] == "safety":
        threshold = manifest.get("thresholds", {}).get("high")
        if threshold is None:
            raise ArtifactError(
                f"model artifact {directory} has no high-risk threshold in its manifest"
            )
        return SafetyPredictor(
            model,
            threshold=threshold,
            possible=manifest["thresholds"].get("possible"),
            context=manifest["thresholds"].get("context"),
            version=label,
            use_rules=use_rules,
        )
    if manifest["kind"] == "intent":
        return IntentPredictor(model, version=label)
    raise ArtifactError(f"model artifact {directory} has unknown kind {manifest['kind']!r}")
