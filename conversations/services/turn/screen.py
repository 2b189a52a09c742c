"""Stage 2, screen: the user's message and its recent history get a risk assessment.

The safety classifier decides; the optional safety judge gives a second opinion in the
possible-risk band; when the classifier fails, or is still loading in a freshly started server
(after ``ARI_SAFETY_WARM_WAIT_S``), the rule net alone decides and at least medium risk stands
(without the model we stay careful). The nearest exemplar is kept as the reason.

The risk signals are those of the turn's release (its risk-signal file, ``release_contents``;
the workspace's entries on top); a candidate's file that differs screens beside the incumbent's
like a candidate safety model. The file's version that screened is recorded
(``model_versions["risk_signals"]``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings

from conversations.backends.base import RiskAssessment
from conversations.backends.safety_rules import signals_in_force
from conversations.models import Message, RiskLevel
from conversations.services.exemplars import exemplar_nearest
from conversations.services.filter import text_has_safety_question
from conversations.services.safety_mode import safe_answer_apart
from conversations.services.turn.state import Turn, ms_since
from conversations.services.warmup import models_ready
from training_jobs.ml.labels import max_level

if TYPE_CHECKING:
    from conversations.backends.base import SafetyClassifier
    from conversations.selectors import HistoryRow

logger = logging.getLogger(__name__)


def safety_context(history: Sequence[HistoryRow]) -> list[str]:
    """The earlier user turns the safety classifier reads with the new message.

    The last ``ARI_SAFETY_HISTORY_TURNS`` user turns, but none from before (or at) the most
    recent high-risk message: that risk has been answered and escalated already, and counting
    it again would turn every later message ("yes, I'm safe now") into a new emergency.
    """
    limit = settings.ARI_SAFETY_HISTORY_TURNS
    texts: list[str] = []
    for role, text, _, risk in reversed(history):
        if role != Message.Role.USER:
            continue
        if risk == RiskLevel.HIGH or len(texts) >= limit:
            break
        texts.append(text)
    return texts[::-1]


def screen(
    text: str,
    *,
    history: Sequence[HistoryRow],
    classifier: SafetyClassifier | None,
    turn: Turn,
    candidate_version_id: int | None = None,
    candidate_served: bool = False,
    risk_signals: str = "",
    candidate_signals: str | None = None,
) -> RiskAssessment:
    """The risk of ``text`` read with ``history`` (the session's last messages, oldest first).

    ``risk_signals`` names the risk-signal file in force (sha256 of a release's; "" the shipped
    file). With ``candidate_version_id`` (a release's safety model in staging or canary) or
    ``candidate_signals`` (its risk-signal file, when not the incumbent's) the candidate
    screens the message too: its decision is stored beside the served one, and, when
    ``candidate_served`` (the canary arm), the more cautious of the two is served. A candidate
    can only add caution, never take it away (docs/releases.md).
    """
    from conversations.services.release_contents import risk_signals_for, served_or_shipped

    version, rules = served_or_shipped(
        risk_signals_for, risk_signals, turn.provenance, "risk_signals"
    )
    turn.model_versions["risk_signals"] = version
    with signals_in_force(rules):
        return _screen(
            text,
            history=history,
            classifier=classifier,
            turn=turn,
            candidate_version_id=candidate_version_id,
            candidate_served=candidate_served,
            candidate_signals=candidate_signals,
        )


def _screen(
    text: str,
    *,
    history: Sequence[HistoryRow],
    classifier: SafetyClassifier | None,
    turn: Turn,
    candidate_version_id: int | None,
    candidate_served: bool,
    candidate_signals: str | None,
) -> RiskAssessment:
    start = time.perf_counter()
    context = [told for told in map(_read_apart_if_safe, safety_context(history)) if told]
    whole = text
    if asked_about_safety(history) and (rest := safe_answer_apart(text)) is not None:
        # An explicit "I'm safe" answer to Ari's safety question: the model reads the rest.
        turn.provenance["safe_answer_apart"] = True
        if not rest:
            turn.latency["safety"] = ms_since(start)
            return _answered_safe(classifier, turn)
        text = rest
    if not models_ready(settings.ARI_SAFETY_WARM_WAIT_S):
        # A fresh server is still loading the model: a person in crisis is not kept waiting.
        logger.warning("safety model still loading; using the rule net")
        assessment = rules_only_assessment(whole)
        turn.provenance["safety_error"] = "warming_up"
        turn.latency["safety"] = ms_since(start)
        turn.model_versions["safety"] = assessment.model_version
        return assessment
    try:
        if classifier is None:
            from conversations.backends.classifiers import get_safety_classifier

            classifier = get_safety_classifier()
        assessment = classifier.assess(text, history=context)
    except Exception as exc:  # never let a broken model skip safety: fall back to the rules
        logger.exception("safety classifier failed; using the rule net")
        assessment = rules_only_assessment(whole)
        turn.provenance["safety_error"] = type(exc).__name__
    else:
        assessment = second_opinion(classifier, text, context, assessment, turn)
        turn.thresholds = thresholds_of(classifier, with_history=bool(context))
        if candidate_version_id is not None or candidate_signals is not None:
            assessment = candidate_screen(
                text,
                context,
                assessment,
                turn,
                candidate_version_id,
                served=candidate_served,
                signals=candidate_signals,
                incumbent_classifier=classifier,
            )
    turn.exemplar = exemplar_nearest(whole)
    turn.latency["safety"] = ms_since(start)
    turn.model_versions["safety"] = assessment.model_version
    return assessment


def asked_about_safety(history: Sequence[HistoryRow]) -> bool:
    """Did Ari's last reply ask whether the user is safe (the crisis reply, safety-check mode,
    a gentle safety question)?"""
    last = next((text for role, text, _, _ in reversed(history) if role != Message.Role.USER), "")
    return text_has_safety_question(last)


def _read_apart_if_safe(text: str) -> str:
    """An earlier turn as the screen reads it: an explicit "I'm safe" answer without its
    "I'm safe" (``safe_answer_apart``), anything else whole."""
    rest = safe_answer_apart(text)
    return text if rest is None else rest


def _answered_safe(classifier: SafetyClassifier | None, turn: Turn) -> RiskAssessment:
    """The assessment of a message that only says the user is safe, answering Ari's question:
    nothing in it for the model to read (the route still reads the answer)."""
    version = str(getattr(classifier, "version", "") or "answered-safe")
    turn.model_versions["safety"] = version
    return RiskAssessment(
        level=RiskLevel.NONE, category="", urgency="none", score=0.0, model_version=version
    )


def thresholds_of(classifier: object, *, with_history: bool) -> dict[str, Any]:
    """The served model's thresholds that applied to this message ({} when it has none)."""
    high = getattr(classifier, "threshold", None)
    possible = getattr(classifier, "possible", None)
    if with_history:
        high = getattr(classifier, "context_threshold", high)
        possible = getattr(classifier, "context_possible", possible)
    if not isinstance(high, int | float):
        return {}
    found: dict[str, Any] = {"high": round(float(high), 4), "with_history": with_history}
    if isinstance(possible, int | float):
        found["possible"] = round(float(possible), 4)
    return found


def candidate_screen(
    text: str,
    context: Sequence[str],
    incumbent: RiskAssessment,
    turn: Turn,
    version_id: int | None,
    *,
    served: bool,
    signals: str | None = None,
    incumbent_classifier: SafetyClassifier | None = None,
) -> RiskAssessment:
    """The release candidate's decision (its safety model, or the incumbent's when
    ``version_id`` is None; with its risk-signal file ``signals`` when given), kept in
    ``provenance["safety_candidate"]``; served only when ``served`` and strictly more cautious
    than the incumbent's."""
    from conversations.backends.classifiers import get_classifier_for_version
    from conversations.services.release_contents import risk_signals_for

    start = time.perf_counter()
    signals_version = turn.model_versions.get("risk_signals", "")
    try:
        if version_id is None:
            classifier = incumbent_classifier
            if classifier is None:
                raise ValueError("no incumbent classifier to screen with")
        else:
            classifier = cast("SafetyClassifier", get_classifier_for_version("safety", version_id))
        if signals is None:
            candidate = classifier.assess(text, history=context)
        else:
            signals_version, rules = risk_signals_for(signals)
            with signals_in_force(rules):
                candidate = classifier.assess(text, history=context)
    except Exception as exc:  # a broken candidate never costs the user the incumbent's screen
        logger.exception("candidate safety screen failed version_id=%s", version_id)
        turn.provenance["safety_candidate"] = {"error": type(exc).__name__}
        return incumbent
    more_cautious = max_level(incumbent.level, candidate.level) != incumbent.level
    chosen = candidate if served and more_cautious else incumbent
    turn.provenance["safety_candidate"] = {
        "model_version": candidate.model_version,
        "level": candidate.level,
        "category": candidate.category or "",
        "score": round(candidate.score, 4),
        "risk_signals": signals_version,
        "served": chosen is candidate,
    }
    turn.provenance["safety_incumbent"] = {
        "model_version": incumbent.model_version,
        "level": incumbent.level,
        "risk_signals": turn.model_versions.get("risk_signals", ""),
    }
    if chosen is candidate:
        turn.model_versions["risk_signals"] = signals_version
    turn.latency["safety_candidate"] = ms_since(start)
    return chosen


def second_opinion(
    classifier: SafetyClassifier,
    text: str,
    history: Sequence[str],
    assessment: RiskAssessment,
    turn: Turn,
) -> RiskAssessment:
    """The optional safety judge, for a message in the model's possible-risk band only."""
    from conversations.backends import safety_judge

    band = safety_judge.in_band(
        assessment, getattr(classifier, "possible", None), getattr(classifier, "threshold", None)
    )
    if not band or not safety_judge.judge_enabled():
        return assessment
    outcome = safety_judge.ask_judge(text, history)
    turn.provenance["safety_judge"] = outcome.as_dict()
    logger.info(
        "safety judge verdict=%s reason=%s ms=%s", outcome.verdict, outcome.reason, outcome.ms
    )
    return safety_judge.judged(assessment, outcome)


def rules_only_assessment(text: str) -> RiskAssessment:
    """The rule safety net alone, and at least medium risk."""
    from conversations.backends.safety_rules import RULESET_VERSION, rule_hits, rules_level

    hits = rule_hits(text)
    level, category = rules_level(hits)
    level = max_level(level, "medium")
    return RiskAssessment(
        level=level,
        category=category,
        urgency=level,
        score=1.0 if level == "high" else 0.5,
        model_version=f"rules-only:{RULESET_VERSION}",
        rule_hits=tuple(h.rule_id for h in hits),
    )
