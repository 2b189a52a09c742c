"""The label sets clinicians produce, in one table: which queue, which label model and field,
and which values are allowed. Agreement, adjudication and exports all read from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from conversations.models import Intent, RiskCategory, RiskLevel
from evaluation.models import (
    Appropriateness,
    IntentLabel,
    PreferenceJudgement,
    SafetyLabel,
    SessionRating,
    Urgency,
    WorkItem,
)

# The model of one clinician's answer to an item (one per queue).
LabelModel: TypeAlias = SessionRating | SafetyLabel | IntentLabel | PreferenceJudgement


@dataclass(frozen=True)
class LabelSet:
    key: str
    title: str
    kind: str
    model: type[LabelModel]
    field: str  # a field of ``model`` (``preference.choice`` is derived, see below)
    values: tuple[str, ...]


PREFERENCE_TIE = "tie"

LABEL_SETS: dict[str, LabelSet] = {
    s.key: s
    for s in (
        LabelSet(
            "review.appropriateness",
            "Session appropriateness",
            WorkItem.Kind.REVIEW,
            SessionRating,
            "appropriateness",
            tuple(Appropriateness.values),
        ),
        LabelSet(
            "safety.risk_level",
            "Risk level",
            WorkItem.Kind.SAFETY,
            SafetyLabel,
            "risk_level",
            tuple(RiskLevel.values),
        ),
        LabelSet(
            "safety.category",
            "Risk category",
            WorkItem.Kind.SAFETY,
            SafetyLabel,
            "category",
            tuple(RiskCategory.values),
        ),
        LabelSet(
            "safety.urgency",
            "Urgency",
            WorkItem.Kind.SAFETY,
            SafetyLabel,
            "urgency",
            tuple(Urgency.values),
        ),
        LabelSet(
            "intent.intent",
            "Intent",
            WorkItem.Kind.INTENT,
            IntentLabel,
            "intent",
            tuple(Intent.values),
        ),
        LabelSet(
            "preference.choice",
            "Preferred candidate",
            WorkItem.Kind.PREFERENCE,
            PreferenceJudgement,
            "effective_chosen__position",
            ("1", "2", "3", PREFERENCE_TIE),
        ),
    )
}

# The label set whose disagreement sends an item to adjudication, per queue.
PRIMARY_LABEL_SET: dict[str, str] = {
    WorkItem.Kind.REVIEW: "review.appropriateness",
    WorkItem.Kind.SAFETY: "safety.risk_level",
    WorkItem.Kind.INTENT: "intent.intent",
    WorkItem.Kind.PREFERENCE: "preference.choice",
}

LABEL_MODEL_BY_KIND: dict[str, type[LabelModel]] = {
    WorkItem.Kind.REVIEW: SessionRating,
    WorkItem.Kind.SAFETY: SafetyLabel,
    WorkItem.Kind.INTENT: IntentLabel,
    WorkItem.Kind.PREFERENCE: PreferenceJudgement,
}


def normalise_value(label_set: LabelSet, raw) -> str:
    """The comparable value of one label: preference picks become "1".."3" or "tie"."""
    if label_set.key == "preference.choice":
        return PREFERENCE_TIE if raw is None else str(raw + 1)
    return "" if raw is None else str(raw)
