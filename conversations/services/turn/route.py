"""Stage 3, route: what kind of reply a turn gets, from the risk and the session's state.

=================  =============================================  ==========================
session            message                                        route
=================  =============================================  ==========================
not in safety      high risk                                      EMERGENCY (enter the mode)
not in safety      anything else                                  GENERATE on the flow step
in safety mode     "misunderstood" / "joking" (any risk)          SAFETY_CLARIFY
in safety mode     asks for the resources (any risk)              SAFETY_RESOURCES
in safety mode     high risk, or says they are not safe           SAFETY_REMINDER
in safety mode     explicitly safe                                SAFETY_RESOLVED (leave it)
in safety mode     "I'm fine.", hedged, sarcastic                 SAFETY_CLARIFY
in safety mode     anything else                                  SAFETY_CHECK
=================  =============================================  ==========================

The route is decided twice: first on the session as read when the turn began, so that a
generated reply can be written outside any lock, and again under the session's lock when the
turn is stored (``persist.turn_persist``), so that a turn that entered safety-check mode
meanwhile is seen by every later one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from conversations.flows import flow_next_step, flow_step_for_reply
from conversations.models import CareLevel, ChatSession, RiskLevel
from conversations.services.safety_mode import SafetyAnswer, is_suggested_safe, safety_answer

if TYPE_CHECKING:
    from conversations.selectors import HistoryRow


class RouteKind(StrEnum):
    EMERGENCY = "emergency"
    SAFETY_REMINDER = "safety_reminder"
    SAFETY_RESOURCES = "safety_resources"
    SAFETY_CLARIFY = "safety_clarify"
    SAFETY_CHECK = "safety_mode"
    SAFETY_RESOLVED = "safety_resolved"
    GENERATE = "generate"


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    flow_step: str = ""  # the flow step a generated reply is written for
    next_flow_step: str | None = None  # the step stored for the reply after it

    @property
    def fixed(self) -> bool:
        """A fixed, admin-written reply: cheap, so it can be composed under the session lock."""
        return self.kind is not RouteKind.GENERATE


def care_level_for(kind: RouteKind, *, risk_level: str) -> CareLevel:
    """The care level of a turn that took route ``kind``: the crisis response, an answer in
    safety-check mode, a generated reply to a medium-risk message (it asks the safety question
    unless the session already answered it), or ordinary support."""
    if kind is RouteKind.EMERGENCY:
        return CareLevel.CRISIS
    if kind is not RouteKind.GENERATE:
        return CareLevel.SAFETY_CHECK
    if risk_level == RiskLevel.MEDIUM:
        return CareLevel.CHECK_IN
    return CareLevel.SUPPORT


_SAFETY_MODE_ROUTES = {
    SafetyAnswer.MISUNDERSTOOD: RouteKind.SAFETY_CLARIFY,
    SafetyAnswer.RESOURCES: RouteKind.SAFETY_RESOURCES,
    SafetyAnswer.NOT_SAFE: RouteKind.SAFETY_REMINDER,
    SafetyAnswer.SAFE: RouteKind.SAFETY_RESOLVED,
    SafetyAnswer.UNCLEAR: RouteKind.SAFETY_CLARIFY,
    SafetyAnswer.OTHER: RouteKind.SAFETY_CHECK,
}


def route(
    *, session: ChatSession, level: str, user_text: str, history: Sequence[HistoryRow]
) -> Route:
    """The route of a turn (see the table above); ``history`` as ``session_history`` returns."""
    high = level == RiskLevel.HIGH
    if not session.safety_mode:
        if high:
            return Route(RouteKind.EMERGENCY)
        step = _flow_step(session, user_text, history)
        following = _next(session, step, history)
        return Route(RouteKind.GENERATE, flow_step=step, next_flow_step=following)
    answer = safety_answer(user_text)
    forgiven = answer in (SafetyAnswer.MISUNDERSTOOD, SafetyAnswer.RESOURCES)
    if high and not (forgiven or is_suggested_safe(user_text)):
        return Route(RouteKind.SAFETY_REMINDER)
    return Route(_SAFETY_MODE_ROUTES[answer])


def _flow_step(session: ChatSession, user_text: str, history: Sequence[HistoryRow]) -> str:
    previous_step = next(
        (step for role, _, step, _ in reversed(history) if role == "assistant" and step), ""
    )
    return flow_step_for_reply(
        session_type=session.session_type,
        stored_step=session.flow_step,
        previous_step=previous_step,
        user_text=user_text,
        earlier_user_texts=[text for role, text, _, _ in history if role == "user"],
    )


def _next(session: ChatSession, step: str, history: Sequence[HistoryRow]) -> str:
    replies_on_step = 1 + sum(1 for role, _, s, _ in history if role == "assistant" and s == step)
    return flow_next_step(
        session_type=session.session_type,
        step=step,
        replies_on_step=replies_on_step,
        session_length=(session.preferences or {}).get("session_length", "standard"),
    )
