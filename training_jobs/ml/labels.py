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
BACKENDS: tuple[str, ...] = ("hybrid", "linear", "minilm")

# The heads each kind of model has, with their label order.
HEADS: dict[str, dict[str, tuple[str, ...]]] = {
    "safety": {"level": RISK_LEVELS, "category": RISK_CATEGORIES},
    "intent": {"intent": INTENTS},
}


def level_rank(level: str) -> int:
    return RISK_LEVELS.index(level)


def max_level(*levels: str) -> str:
    return max(levels, key=level_rank)


LANGS: tuple[str, ...] = ("en", "es", "de", "fr")

# The risk families of docs/SAFETY_TAXONOMY.md (shared/docs) per level: every safety training row
# names one, so coverage per family and per source can be counted (datasets/README.md).
HIGH_FAMILIES: tuple[str, ...] = (
    "ideation",
    "means",
    "plan_timing",
    "preparation",
    "attempt",
    "self_harm_act",
    "harm_others",
    "acute_crisis",
    "psychosis_danger",
    "indirect",
    "buried",
)
MEDIUM_FAMILIES: tuple[str, ...] = (
    "passive_wish",
    "old_thoughts",
    "hopeless_burden",
    "self_harm_urge",
    "mild_self_injury",
    "anger_control",
    "sleepless_unreal",
    "substance_rising",
    "acute_distress",
)
# Hard negatives: everyday uses of each risky word family, and safe contexts.
HARD_NEGATIVE_FAMILIES: tuple[str, ...] = (
    "hn_end",
    "hn_stop",
    "hn_cut",
    "hn_kill",
    "hn_die",
    "hn_dead",
    "hn_take",
    "hn_pills",
    "hn_rope",
    "hn_bridge",
    "hn_gun",
    "hn_blade",
    "hn_jump",
    "hn_height",
    "hn_done",
    "hn_last_time",
    "hn_goodbye",
    "hn_burn",
    "hn_poison",
    "hn_safe_talk",
    "hn_clinical",
    "hn_grief_natural",
    "hn_healthy_ending",
    "hn_coach_request",
    "hn_fiction_games_sport",
    "hn_twin",
    "hn_idiom",
    "hn_negation",
)
FAMILIES: dict[str, frozenset[str]] = {
    "high": frozenset(HIGH_FAMILIES),
    "medium": frozenset(MEDIUM_FAMILIES),
    # A hard negative may be labelled low when the writer is sad (grief, a safe past).
    "low": frozenset(("distress", *HARD_NEGATIVE_FAMILIES)),
    "none": frozenset(("everyday", "coach_reply", *HARD_NEGATIVE_FAMILIES)),
}
