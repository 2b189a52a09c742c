"""Interfaces of the swappable parts of a chat turn, and the frozen results they return.

Services call ``get_safety_classifier()``, ``get_intent_classifier()`` and
``get_generator()``; never a concrete class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RiskAssessment:
    level: str  # none | low | medium | high
    category: str  # "" | suicidal_ideation | self_harm | harm_to_others | crisis
    urgency: str  # none | low | medium | high | immediate
    score: float  # model probability of the high-risk class, 0..1
    model_version: str
    rule_hits: tuple[str, ...] = ()
    confidence: float | None = None  # of the served decision, in [0.5, 1] (thresholds.py)


@dataclass(frozen=True)
class IntentPrediction:
    intent: str
    score: float
    model_version: str


@dataclass(frozen=True)
class GenerationRequest:
    user_text: str
    session_type: str
    flow_step: str
    persona: str
    history: tuple[tuple[str, str], ...] = ()  # (role, text), oldest first
    preferences: dict[str, Any] = field(default_factory=dict)
    previous_summary: str = ""
    risk_level: str = "none"
    # The screen's risk family ("" | suicidal_ideation | self_harm | harm_to_others | crisis),
    # when a risk signal in the user's own words named it; "" otherwise.
    risk_category: str = ""


@dataclass(frozen=True)
class GeneratedReply:
    text: str
    backend: str  # approved | openai | transformers
    model: str = ""
    source_dialogue_id: int | None = None
    fallback_reason: str = ""


class SafetyClassifier(Protocol):
    def assess(self, text: str, history: Sequence[str] = ()) -> RiskAssessment: ...


class IntentClassifier(Protocol):
    def predict(self, text: str) -> IntentPrediction: ...

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]: ...


class Generator(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> GeneratedReply: ...
