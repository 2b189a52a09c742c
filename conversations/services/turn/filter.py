"""Stage 6, filter: the response filter's hard lines on the words the user will read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from conversations.services.filter import response_filter_apply
from conversations.services.filter.apply import validations_used
from conversations.services.filter.rules import SHIPPED_RULE_SET, RuleSet
from conversations.services.safety_mode import safety_question_answered
from conversations.services.turn.state import Turn, ms_since

if TYPE_CHECKING:
    from conversations.catalogue import Catalogue
    from conversations.models import EmergencyReply


def filter_reply(
    text: str,
    *,
    risk_level: str,
    user_text: str,
    fixed: EmergencyReply,
    catalogue: Catalogue,
    turn: Turn,
    rule_set: RuleSet = SHIPPED_RULE_SET,
    history: Sequence[tuple[str, str]] = (),
) -> None:
    """Set ``turn.text`` to ``text`` as the filter lets it through (with ``rule_set``, the
    turn's release's sentence rules), and record its hits and the rule set's version.
    ``history``: the session's earlier (role, text) messages: a safety question already
    answered "safe" is not asked again, and no validation sentence is put first twice."""
    start = time.perf_counter()
    result = response_filter_apply(
        text=text,
        catalogue=catalogue,
        risk_level=risk_level,
        user_text=user_text,
        safety_prompt_text=fixed.medium_risk_text,
        rule_set=rule_set,
        safety_answered=safety_question_answered([*history, ("user", user_text)]),
        used_validations=validations_used(text for role, text in history if role != "user"),
        # An approved opening needs no stock validation before it: the composed responder's
        # validation part, its reply to a plain answer ("yes, let's do it"), or a fixed safety
        # reply as the admin wrote it.
        opens_validated=turn.provenance.get("opens_with") == "validation"
        or bool(turn.provenance.get("plain_answer"))
        or turn.provenance.get("backend") == "fixed",
    )
    turn.latency["filter"] = ms_since(start)
    turn.filter_hits = [hit.as_dict() for hit in result.hits]
    turn.filter_version = result.version
    turn.model_versions["filter"] = result.version
    if result.changed:
        turn.provenance["unfiltered_text"] = text
    turn.needs_resources = turn.needs_resources or result.needs_resources
    turn.text = result.text
