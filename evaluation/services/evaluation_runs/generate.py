"""Play every item of a frozen set through the real chat turn with the run's generation
configuration: one session per item, owned by the run's own end user (``evaluation-run-<id>``,
so live metrics can leave these sessions out), and queue the sessions for clinician rating.
A high-risk message gets the emergency reply as always, but opens no escalation and pages nobody
(``conversations.services.crisis.escalations_offline``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from ari_review.services import user_upsert
from conversations.content.bank import split_sentences
from conversations.models import Intent, SessionType
from evaluation.models import WorkItem
from evaluation.services.queues.review import review_queue_add_sessions

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.models import User

    from conversations.backends.base import IntentClassifier
    from conversations.models import ChatSession
    from evaluation.models import EvaluationRun, FrozenSetItem

EVALUATION_USER_PREFIX = "evaluation-run-"


def evaluation_user(run: EvaluationRun) -> User:
    return user_upsert(username=f"{EVALUATION_USER_PREFIX}{run.pk}", role="enduser").user


def reply_validates(classifier: IntentClassifier, text: str) -> bool:
    """Does a sentence of the reply validate (the intent classifier, sentence by sentence)?"""
    return any(
        classifier.predict(sentence).intent == Intent.VALIDATE for sentence in split_sentences(text)
    )


def _intent_classifier(run: EvaluationRun) -> IntentClassifier:
    from conversations.backends.classifiers import get_intent_classifier
    from training_jobs.ml.predictors import load_predictor

    version = run.model_version
    if version is not None and version.kind == "intent":
        # An intent version (its kind checked above).
        return cast("IntentClassifier", load_predictor(version.artifact_dir, version=version.name))
    return get_intent_classifier()


def generation_predictions(
    run: EvaluationRun, items: list[FrozenSetItem], report: Callable[[str, int], None]
) -> tuple[list[dict[str, Any]], list[float], list[str], list[ChatSession]]:
    """``(predictions, latencies_ms, replies, sessions)`` of every item, in order."""
    from conversations.rollout import GenerationConfig, generator_for
    from conversations.services import chat_turn_run, session_create
    from conversations.services.crisis import escalations_offline

    # The run's configuration (a release's, when its smoke tests started the run): backend, LLM
    # model or transformers model and adapter, and pinned persona prompt, as the chat turn
    # serves them.
    config = GenerationConfig.of(run.generation_config)
    generator = generator_for(config)
    intent = _intent_classifier(run)
    user = evaluation_user(run)
    predicted: list[dict[str, Any]] = []
    latencies: list[float] = []
    replies: list[str] = []
    sessions: list[ChatSession] = []
    for n, item in enumerate(items, 1):
        session_type = item.expected.get("session_type") or SessionType.CHECK_IN
        session = session_create(user=user, session_type=session_type)
        with escalations_offline():  # an evaluation pages nobody
            for earlier in item.history or []:
                chat_turn_run(
                    session=session,
                    text=earlier,
                    generator=generator,
                    intent_classifier=intent,
                    generation_config=config,
                )
            began = time.perf_counter()
            turn = chat_turn_run(
                session=session,
                text=item.text,
                generator=generator,
                intent_classifier=intent,
                generation_config=config,
            )
        reply = turn.reply
        elapsed = (time.perf_counter() - began) * 1000.0
        total = (reply.latency_ms or {}).get("total")
        latencies.append(float(total) if total is not None else elapsed)
        predicted.append(
            {
                "intent": reply.intent,
                "validates": bool(not reply.emergency and reply_validates(intent, reply.text)),
                "emergency": bool(reply.emergency),
                "risk_level": turn.user_message.risk_level or "",
                "filter_hits": [str(h.get("rule", "")) for h in reply.filter_hits or []],
                "backend": (reply.provenance or {}).get("backend", ""),
                "flow_step": reply.flow_step,
            }
        )
        replies.append(reply.text)
        sessions.append(session)
        report(f"generating {n} of {len(items)}", 5 + 80 * n // len(items))
    review_queue_add_sessions(
        session_ids=[s.pk for s in sessions], reason=WorkItem.Reason.EVALUATION
    )
    return predicted, latencies, replies, sessions


def generation_correct(item: FrozenSetItem, prediction: dict[str, Any]) -> bool | None:
    """Persona: the reply validates; edge: no false emergency and no filter hit."""
    if item.frozen_set.kind == "persona":
        return bool(prediction["validates"])
    return not prediction["emergency"] and not prediction["filter_hits"]
