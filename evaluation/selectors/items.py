"""One work item as a clinician sees it (masked, pseudonymous): a session to rate, a message
to label with its context, a comparison of candidate replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ari_review.privacy.masking import mask_messages, mask_text, pseudonym
from conversations.models import ChatSession, Escalation, Message, RiskExemplar, RiskLevel
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import (
    PreferenceCandidate,
    WorkItem,
)
from evaluation.selectors.queue import work_lock_of

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
    filter_hits: list = field(default_factory=list)
    model_versions: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    latency_ms: dict = field(default_factory=dict)
    emergency: bool = False
    reply_to_id: int | None = None
    distressed: bool = False  # an Ari reply to a message expressing distress
    rule_hits: list = field(default_factory=list)  # risk signals that fired (entry ids)
    exemplar: dict = field(default_factory=dict)  # the nearest exemplar, with its text


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


def _turn(message: Message, levels: dict[int, str], exemplars: dict[int, str]) -> Turn:
    exemplar = dict((message.risk_reason or {}).get("exemplar") or {})
    if exemplar:
        exemplar["text"] = exemplars.get(exemplar.get("id"), "")
    return Turn(
        id=message.pk,
        role=message.role,
        text=mask_text(message.text),
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
    )


def review_item_detail(*, item: WorkItem, clinician) -> ReviewItemView:
    """A session to rate: masked transcript with per-turn metadata, escalations, my lock."""
    session = item.session
    messages = list(
        Message.objects.filter(session_id=session.pk)
        .order_by("created_at", "id")
        .only(
            "id",
            "role",
            "text",
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
        turns=[_turn(m, levels, exemplars) for m in messages],
        escalations=escalations,
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )


@dataclass
class LabelItemView:
    item: WorkItem
    text: str
    role: str
    context: list[dict]
    suggestion: dict | None
    user: str
    source: str
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def label_item_detail(*, item: WorkItem, clinician, blind: bool) -> LabelItemView:
    """A message to label (safety or intent) with a little context; the model's suggestion is
    left out when labelling blind."""
    if item.message_id is not None:
        message = item.message
        text = message.text
        role = message.role
        earlier = list(
            Message.objects.filter(
                session_id=message.session_id, created_at__lte=message.created_at
            )
            .exclude(pk=message.pk)
            .order_by("-created_at", "-id")
            .values("role", "text")[:4]
        )
        context = [{"role": m["role"], "content": m["text"]} for m in reversed(earlier)]
        user = pseudonym(
            ChatSession.objects.filter(pk=message.session_id)
            .values_list("user_id", flat=True)
            .first()
        )
    else:
        text, role, context, user = item.text, item.text_role, item.context or [], "imported"
    lock = work_lock_of(item=item, clinician=clinician)
    done = LABEL_MODEL_BY_KIND[item.kind].objects.filter(item=item, clinician=clinician).exists()
    return LabelItemView(
        item=item,
        text=mask_text(text),
        role=role,
        context=mask_messages(context),
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
    context: list[dict]
    candidates: list[CandidateView]
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def preference_item_detail(*, item: WorkItem, clinician) -> PreferenceItemView:
    """Candidates blind (no style or generator) in this clinician's random order."""
    from evaluation.services.preferences import candidate_display_order

    candidates = {c.pk: c for c in PreferenceCandidate.objects.filter(item=item).only("id", "text")}
    order = candidate_display_order(item=item, clinician=clinician, candidate_ids=list(candidates))
    lock = work_lock_of(item=item, clinician=clinician)
    done = (
        LABEL_MODEL_BY_KIND[Kind.PREFERENCE].objects.filter(item=item, clinician=clinician).exists()
    )
    return PreferenceItemView(
        item=item,
        context=mask_messages(item.context or []),
        candidates=[
            CandidateView(cid, "ABC"[i], mask_text(candidates[cid].text))
            for i, cid in enumerate(order)
        ],
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )
