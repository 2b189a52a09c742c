"""One work item as a clinician sees it (masked, pseudonymous): a session to rate, a message
to label with its context, a comparison of candidate replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ari_review.privacy.masking import mask_text, pseudonym
from ari_review.privacy.stored_masks import masks_stored
from conversations.models import ChatSession, Escalation, Message, RiskExemplar, RiskLevel
from conversations.services.masking import message_texts_masked
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import (
    PreferenceCandidate,
    WorkItem,
)
from evaluation.selectors.masking import masked_many
from evaluation.selectors.queue import work_lock_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind = WorkItem.Kind
DISTRESS_LEVELS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)


@dataclass
class Turn:
    id: int
    role: str
    text: str
    created_at: dt.datetime
    risk_level: str = ""
    risk_category: str = ""
    risk_score: float | None = None
    risk_urgency: str = ""
    intent: str = ""
    intent_score: float | None = None
    filter_hits: list[Any] = field(default_factory=list)
    model_versions: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    latency_ms: dict[str, Any] = field(default_factory=dict)
    emergency: bool = False
    reply_to_id: int | None = None
    distressed: bool = False  # an Ari reply to a message expressing distress
    rule_hits: list[Any] = field(default_factory=list)  # risk signals that fired (entry ids)
    exemplar: dict[str, Any] = field(default_factory=dict)  # the nearest exemplar, with its text
    thresholds: dict[str, Any] = field(default_factory=dict)  # what the score was compared with
    safety_model: str = ""  # the safety model version that scored it


@dataclass
class EscalationView:
    id: int
    status: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    message_id: int
    # How far the on-call e-mails got (conversations.models.NotificationStatus), and its label.
    notification_status: str = ""
    notification_label: str = ""


@dataclass
class ReviewItemView:
    item: WorkItem
    user: str
    session: ChatSession
    turns: list[Turn]
    escalations: list[EscalationView]
    lock_expires_at: dt.datetime | None
    done_by_me: bool
    # The user's own rating of the session (1-5, None when not rated) and comment, masked.
    user_rating: int | None = None
    user_rating_comment: str = ""


def _turn(message: Message, text: str, levels: dict[int, str], exemplars: dict[int, str]) -> Turn:
    exemplar = dict((message.risk_reason or {}).get("exemplar") or {})
    if exemplar:
        exemplar["text"] = exemplars.get(exemplar.get("id") or 0, "")  # no pk is 0
    return Turn(
        id=message.pk,
        role=message.role,
        text=text,
        created_at=message.created_at,
        risk_level=message.risk_level,
        risk_category=message.risk_category,
        risk_score=message.risk_score,
        risk_urgency=message.risk_urgency,
        intent=message.intent,
        intent_score=message.intent_score,
        filter_hits=message.filter_hits or [],
        model_versions=message.model_versions or {},
        provenance=message.provenance or {},
        latency_ms=message.latency_ms or {},
        emergency=message.emergency,
        reply_to_id=message.reply_to_id,
        distressed=message.role == Message.Role.ASSISTANT
        and levels.get(message.reply_to_id or -1, "") in DISTRESS_LEVELS,
        rule_hits=list(message.safety_rule_hits or []),
        exemplar=exemplar,
        thresholds=dict((message.risk_reason or {}).get("thresholds") or {}),
        safety_model=str((message.risk_reason or {}).get("model_version") or ""),
    )


def review_item_detail(*, item: WorkItem, clinician: User) -> ReviewItemView:
    """A session to rate: masked transcript with per-turn metadata, escalations, my lock."""
    session = item.session
    if session is None:
        raise ValueError(f"review item {item.pk} has no session")
    messages = list(
        Message.objects.filter(session_id=session.pk)
        .order_by("created_at", "id")
        .only(
            "id",
            "role",
            "text",
            "text_masked",
            "text_masked_version",
            "created_at",
            "risk_level",
            "risk_category",
            "risk_score",
            "risk_urgency",
            "intent",
            "intent_score",
            "filter_hits",
            "model_versions",
            "provenance",
            "latency_ms",
            "emergency",
            "reply_to_id",
            "session_id",
            "safety_rule_hits",
            "risk_reason",
        )
    )
    levels = {m.pk: m.risk_level for m in messages if m.role == Message.Role.USER}
    exemplar_ids = {
        (m.risk_reason or {}).get("exemplar", {}).get("id") for m in messages if m.risk_reason
    }
    exemplars = dict(
        RiskExemplar.objects.filter(pk__in=exemplar_ids - {None}).values_list("pk", "text")
        if exemplar_ids - {None}
        else []
    )
    escalations = [
        EscalationView(
            e.pk,
            e.status,
            e.created_at,
            e.closed_at,
            e.message_id,
            e.notification_status,
            e.get_notification_status_display() if e.notification_status else "",
        )
        for e in Escalation.objects.filter(session_id=session.pk).order_by("created_at")
    ]
    lock = work_lock_of(item=item, clinician=clinician)
    done = LABEL_MODEL_BY_KIND[Kind.REVIEW].objects.filter(item=item, clinician=clinician).exists()
    return ReviewItemView(
        item=item,
        user=pseudonym(session.user_id),
        session=session,
        turns=[
            _turn(m, text, levels, exemplars)
            for m, text in zip(messages, message_texts_masked(messages=messages), strict=True)
        ],
        escalations=escalations,
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
        user_rating=session.rating_stars,
        user_rating_comment=mask_text(session.rating_comment) if session.rating_comment else "",
    )


@dataclass
class LabelItemView:
    item: WorkItem
    text: str
    role: str
    context: list[dict[str, Any]]
    suggestion: dict[str, Any] | None
    user: str
    source: str
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def label_item_detail(*, item: WorkItem, clinician: User, blind: bool) -> LabelItemView:
    """A message to label (safety or intent) with a little context; the model's suggestion is
    left out when labelling blind."""
    message = item.message  # None (no query) when message_id is None
    if message is not None:
        role = message.role
        earlier = list(
            Message.objects.filter(
                session_id=message.session_id, created_at__lte=message.created_at
            )
            .exclude(pk=message.pk)
            .order_by("-created_at", "-id")
            .only("id", "role", "text", "text_masked", "text_masked_version")[:4]
        )
        earlier.reverse()
        # Stored masks (a message is masked once, the first time a page shows it).
        text, *said = message_texts_masked(messages=[message, *earlier])
        context = [
            {"role": m.role, "content": content} for m, content in zip(earlier, said, strict=True)
        ]
        user = pseudonym(
            ChatSession.objects.filter(pk=message.session_id)
            .values_list("user_id", flat=True)
            .first()
        )
    else:
        # An imported text (its mask stored on the item) and its context (through the cache).
        context = [m for m in item.context or [] if isinstance(m, dict)]
        (text,) = masks_stored([item]) if item.text else [""]
        said = masked_many([str(m.get("content") or "") for m in context])
        context = [{**m, "content": content} for m, content in zip(context, said, strict=True)]
        role, user = item.text_role, "imported"
    lock = work_lock_of(item=item, clinician=clinician)
    done = LABEL_MODEL_BY_KIND[item.kind].objects.filter(item=item, clinician=clinician).exists()
    return LabelItemView(
        item=item,
        text=text,
        role=role,
        context=context,
        # a blinded live false-negative sample never shows a model suggestion
        suggestion=None
        if blind or item.reason == WorkItem.Reason.FN_SAMPLE
        else (item.suggestion or None),
        user=user,
        source=item.source,
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )


@dataclass
class CandidateView:
    id: int
    letter: str
    text: str


@dataclass
class PreferenceItemView:
    item: WorkItem
    context: list[dict[str, Any]]
    candidates: list[CandidateView]
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def preference_item_detail(*, item: WorkItem, clinician: User) -> PreferenceItemView:
    """Candidates blind (no style or generator) in this clinician's random order."""
    from evaluation.services.preferences import candidate_display_order

    candidates = {c.pk: c for c in PreferenceCandidate.objects.filter(item=item).only("id", "text")}
    order = candidate_display_order(item=item, clinician=clinician, candidate_ids=list(candidates))
    lock = work_lock_of(item=item, clinician=clinician)
    done = (
        LABEL_MODEL_BY_KIND[Kind.PREFERENCE].objects.filter(item=item, clinician=clinician).exists()
    )
    context = [m for m in item.context or [] if isinstance(m, dict)]
    # The context and the candidates masked through the cache (one round trip), not per view.
    said = masked_many(
        [str(m.get("content") or "") for m in context] + [candidates[cid].text for cid in order]
    )
    return PreferenceItemView(
        item=item,
        context=[{**m, "content": content} for m, content in zip(context, said, strict=False)],
        candidates=[
            CandidateView(cid, "ABC"[i], said[len(context) + i]) for i, cid in enumerate(order)
        ],
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )
