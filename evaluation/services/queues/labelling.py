"""Filling the labelling queues by active learning: the production messages the model is least
sure of, and imported text, ordered by uncertainty."""

from __future__ import annotations

import hashlib
import logging
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import Abs

from ari_review.api.errors import ApplicationError
from conversations.models import Message, RiskLevel
from evaluation.models import WorkItem
from evaluation.services.queues.work import label_reviews_required

logger = logging.getLogger(__name__)


def intent_content_key(text: str) -> str:
    """The identity of an intent item: its reply's text, case and spacing aside. The intent is
    read from the reply alone (``conversations.services.turn.label``), so two items with the same
    reply are one training row: a fixed or approved reply sent in many sessions, or a turn that
    came in both as a conversation and as a strategy line, is queued once."""
    normalised = " ".join((text or "").casefold().split())
    return hashlib.sha256(normalised.encode()).hexdigest() if normalised else ""


def _safety_suggestion(message: Message) -> dict[str, Any]:
    """What the model said of a user message: the version that scored it is on the message
    (the chat turn stores it there), on its reply for rows stored before."""
    reply = getattr(message, "reply", None)
    return {
        "risk_level": message.risk_level,
        "category": message.risk_category,
        "urgency": message.risk_urgency,
        "score": message.risk_score,
        "model_version": (message.model_versions or {}).get("safety")
        or ((reply.model_versions if reply else None) or {}).get("safety", ""),
    }


def _intent_suggestion(message: Message) -> dict[str, Any]:
    return {
        "intent": message.intent,
        "score": message.intent_score,
        "model_version": (message.model_versions or {}).get("intent", ""),
    }


def served_safety_band() -> tuple[float | None, float | None]:
    """``(possible, high)`` thresholds of the active safety model version (None without one):
    the possible-risk band, where the served decision is least certain."""
    from training_jobs.selectors import model_version_active_get

    version = model_version_active_get(kind="safety")
    thresholds = (version.thresholds or {}) if version is not None else {}
    return thresholds.get("possible"), thresholds.get("high")


def safety_uncertainty(score: float | None, band: tuple[float | None, float | None]) -> float:
    """1 in the middle of the served version's possible-risk band (least certain), falling to
    0 at scores of 0 or 1; without a band, 1 at 0.5."""
    from training_jobs.ml.thresholds import safety_confidence

    if score is None:
        return 0.5
    possible, high = band
    return min(1.0, max(0.0, 2.0 * (1.0 - safety_confidence(score, high=high, possible=possible))))


def intent_uncertainty(score: float | None) -> float:
    if score is None:
        return 0.5
    return max(0.0, 1.0 - float(score))


# Texts already read that later reads leave out in SQL, at most this many (a parameter each).
_KNOWN_TEXTS_MAX = 1000


def _fresh_candidates(
    candidates: QuerySet[Message], *, kind: str, need: int, chunk: int = 500
) -> list[tuple[Message, str]]:
    """The first ``need`` candidates with their content key; for intent (candidates ordered by
    ``intent_score, -id``), only replies whose text is not queued yet (nor earlier in the list),
    reading further down a chunk at a time by keyset: each chunk starts after the last one read
    (an index range, ``message_reply_uncertain_idx``, not an OFFSET over a sort of every reply)
    and leaves out, in SQL, the texts already read (a reply with one of them is queued or
    taken), so replies that repeat a few approved wordings are passed over in one read."""
    if kind != WorkItem.Kind.INTENT:
        return [(m, "") for m in candidates[:need]]
    chosen: list[tuple[Message, str]] = []
    seen: set[str] = set()
    known_texts: set[str] = set()
    after: tuple[float, int] | None = None
    while len(chosen) < need:
        page = candidates
        if after is not None:
            score, pk = after
            page = page.filter(intent_score__gte=score).filter(
                Q(intent_score__gt=score) | Q(pk__lt=pk)
            )
        if known_texts and len(known_texts) <= _KNOWN_TEXTS_MAX:
            page = page.exclude(text__in=known_texts)
        batch = list(page[:chunk])
        if not batch:
            break
        last = batch[-1]
        after = (float(cast(float, last.intent_score)), last.pk)
        keys = {m.pk: intent_content_key(m.text) for m in batch}
        seen |= set(
            WorkItem.objects.filter(kind=kind, content_key__in=set(keys.values())).values_list(
                "content_key", flat=True
            )
        )
        for message in batch:
            known_texts.add(message.text)
            key = keys[message.pk]
            if key in seen:
                continue
            seen.add(key)
            chosen.append((message, key))
            if len(chosen) == need:
                break
    return chosen


@transaction.atomic
def label_queue_refresh(*, kind: str, limit: int | None = None) -> int:
    """Active learning: top the labelling queue up with the production messages the model is
    least certain about (imported items wait in the same queue, ordered by uncertainty too)."""
    if kind not in (WorkItem.Kind.SAFETY, WorkItem.Kind.INTENT):
        raise ApplicationError(f"Queue {kind!r} is not a labelling queue.")
    open_production = WorkItem.objects.filter(
        kind=kind, status=WorkItem.Status.OPEN, message__isnull=False
    ).count()
    need = settings.EVALUATION_LABEL_QUEUE_SIZE - open_production
    if limit is not None:
        need = min(need, limit)
    if need <= 0:
        return 0
    queued = WorkItem.objects.filter(kind=kind, message=OuterRef("pk"))
    band = served_safety_band()
    if kind == WorkItem.Kind.SAFETY:
        possible, high = band
        middle = (possible + high) / 2.0 if possible is not None and high is not None else 0.5
        candidates: QuerySet[Message] = (
            Message.objects.filter(role=Message.Role.USER, risk_score__isnull=False)
            .select_related("reply")
            .exclude(Exists(queued))
            .annotate(distance=Abs(F("risk_score") - middle, output_field=FloatField()))
            .order_by("distance", "-id")
        )
    else:
        candidates = (
            Message.objects.filter(
                role=Message.Role.ASSISTANT, emergency=False, intent_score__isnull=False
            )
            .exclude(Exists(queued))
            .only("id", "role", "text", "intent", "intent_score", "model_versions")
            .order_by("intent_score", "-id")
        )
    new: list[WorkItem] = []
    for message, key in _fresh_candidates(candidates, kind=kind, need=need):
        if kind == WorkItem.Kind.SAFETY:
            uncertainty = safety_uncertainty(message.risk_score, band)
            suggestion = _safety_suggestion(message)
            high = message.risk_level == RiskLevel.HIGH
        else:
            uncertainty = intent_uncertainty(message.intent_score)
            suggestion = _intent_suggestion(message)
            high = False
        new.append(
            WorkItem(
                kind=kind,
                reason=WorkItem.Reason.UNCERTAIN,
                priority=1.0 - uncertainty,
                required_reviews=label_reviews_required(key=f"m{message.pk}", high_risk=high),
                message=message,
                text_role=message.role,
                suggestion=suggestion,
                source="production",
                content_key=key,
            )
        )
    WorkItem.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    logger.info("label queue refreshed kind=%s added=%s", kind, len(new))
    return len(new)


def imported_label_item_build(
    *,
    kind: str,
    text: str,
    source: str,
    external_id: str,
    context: list[dict[str, Any]] | None = None,
    suggestion: dict[str, Any] | None = None,
    text_role: str = "user",
) -> WorkItem:
    """An unsaved labelling item for imported text (the importer bulk-creates them)."""
    suggestion = suggestion or {}
    if kind == WorkItem.Kind.SAFETY:
        score = suggestion.get("score")
        band = served_safety_band() if score is not None else (None, None)
        uncertainty = safety_uncertainty(score, band)
        high = suggestion.get("risk_level") == RiskLevel.HIGH
    else:
        uncertainty = intent_uncertainty(suggestion.get("score"))
        high = False
    return WorkItem(
        kind=kind,
        reason=WorkItem.Reason.IMPORTED,
        priority=1.0 - uncertainty,
        required_reviews=label_reviews_required(key=f"{source}:{external_id}", high_risk=high),
        text=text,
        text_role=text_role,
        context=context or [],
        suggestion=suggestion,
        source=source,
        external_id=external_id,
        content_key=intent_content_key(text) if kind == WorkItem.Kind.INTENT else "",
    )
