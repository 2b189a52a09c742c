"""Label sets shared by training, evaluation and serving."""

from __future__ import annotations

RISK_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high")
RISK_CATEGORIES: tuple[str, ...] = ("suicidal_ideation", "self_harm", "harm_to_others", "crisis")
URGENCIES: tuple[str, ...] = ("none", "low", "medium", "high", "immediate")
INTENTS: tuple[str, ...] = (
    "validate",
    "probe_story",
    "probe_root",
    "reframe",
    "suggest_experiment",
    "offer_mindfulness",
    "safety_check",
    "emergency",
    "close",
    "other",
)
KINDS: tuple[str, ...] = ("safety", "intent")
BACKENDS: tuple[str, ...] = ("linear", "minilm")

# The heads each kind of model has, with their label order.
HEADS: dict[str, dict[str, tuple[str, ...]]] = {
    "safety": {"level": RISK_LEVELS, "category": RISK_CATEGORIES},
    "intent": {"intent": INTENTS},
}


def level_rank(level: str) -> int:
    return RISK_LEVELS.index(level)


def max_level(*levels: str) -> str:
    return max(levels, key=level_rank)
