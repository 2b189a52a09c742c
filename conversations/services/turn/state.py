"""What a chat turn has worked out so far, handed forward from stage to stage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from conversations.models import ChatSession, Message


@dataclass(frozen=True)
class TurnResult:
    user_message: Message
    reply: Message
    replayed: bool = False
    # The session as written by this turn (for a replayed turn: as read when looked up).
    session: ChatSession | None = None


@dataclass
class Turn:
    """One turn's working state. Stages add to it; none reads back what a later one wrote."""

    latency: dict[str, Any] = field(default_factory=dict)
    model_versions: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    # The nearest exemplar: why, for reviewers.
    exemplar: dict[str, Any] = field(default_factory=dict)
    resources: list[Any] = field(default_factory=list)
    suggested_replies: list[Any] = field(default_factory=list)
    # The thresholds the score was compared with (and whether the message was read with its
    # history, which has thresholds of its own): why, for reviewers.
    thresholds: dict[str, Any] = field(default_factory=dict)
    emergency: bool = False
    intent: str = ""
    intent_score: float | None = None
    filter_hits: list[Any] = field(default_factory=list)
    filter_version: str = ""
    flow_step: str = ""
    next_flow_step: str | None = None
    enter_safety_mode: bool = False
    leave_safety_mode: bool = False
    needs_resources: bool = False
    text: str = ""
    care_level: str = ""  # route.care_level_for, stored on the user message
    # The release and arm serving this turn (conversations.rollout).
    release_id: int | None = None
    rollout_arm: str = ""


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
