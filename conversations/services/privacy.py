"""Privacy of the people who chat with Ari (docs/privacy.md): their own data, downloaded or
erased; the retention purge; and revealing a transcript's raw text to staff, with a reason.

Everything here is audited (``ari_review.audit``) with ids and counts, never message
text; logs carry ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.ttl_cache import ttl_cache_invalidate
from conversations.models import ChatPreferences, ChatSession, Escalation, Message, RiskExemplar

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ari_review.models import AuditEvent

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "ari-user-data/1"
# Ids kept in one audit event (counts are always complete).
AUDIT_MAX_IDS = 1000
REVEAL_REASON_MIN_CHARS = 5
REVEAL_REASON_MAX_CHARS = 300
RETENTION_BATCH_SIZE = 200
RETENTION_MAX_BATCHES = 50  # per run: a backlog is worked off over the next hourly runs
# Clinician work that refers to a session or message and goes with it (the counts' keys).
CLINICIAN_WORK_MODELS = (
    "evaluation.SessionRating",
    "evaluation.ReplyAssessment",
    "evaluation.SafetyLabel",
    "evaluation.IntentLabel",
    "evaluation.Adjudication",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _audit(**kwargs: Any) -> AuditEvent:
    return audit_event_record(**kwargs)


# --- Download --------------------------------------------------------------------------------


def _message_export(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "role": message.role,
        "text": message.text,
        "created_at": _iso(message.created_at),
        "risk_level": message.risk_level,
        "emergency": bool(message.emergency),
        "flow_step": message.flow_step,
    }


def _session_export(session: ChatSession) -> dict[str, Any]:
    return {
        "id": str(session.public_id),
        "session_type": session.session_type,
        "status": session.status,
        "created_at": _iso(session.created_at),
        "ended_at": _iso(session.ended_at),
        "flow_step": session.flow_step,
        "preferences": dict(session.preferences or {}),
        "summary": session.summary,
        "previous_summary": session.previous_summary,
        "rating_stars": session.rating_stars,
        "rating_comment": session.rating_comment,
        "rated_at": _iso(session.rated_at),
        "safety_mode": bool(session.safety_mode),
        "flagged": bool(session.flagged),
        "max_risk_level": session.max_risk_level,
        "escalations": [
            {
                "created_at": _iso(e.created_at),
                "status": e.status,
                "closed_at": _iso(e.closed_at),
            }
            for e in session.escalations.all()
        ],
        "messages": [_message_export(m) for m in session.messages.all()],
    }


def user_data_export(*, user: User, via: str) -> dict[str, Any]:
    """Everything the chat stores about ``user``, as one JSON-ready dict (three queries):
    account, default preferences, and every session with its messages, rating and escalations.
    Audited (``data.export``, counts only). ``via``: ``api`` or ``page``."""
    sessions = list(
        ChatSession.objects.filter(user=user)
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id")),
            Prefetch("escalations", queryset=Escalation.objects.order_by("created_at", "id")),
        )
        .order_by("created_at", "id")
    )
    preferences = ChatPreferences.objects.filter(user=user).first()
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(timezone.now()),
        "account": {
            "username": user.get_username(),
            "email": getattr(user, "email", "") or "",
            "date_joined": _iso(getattr(user, "date_joined", None)),
        },
        "preferences": (
            {**preferences.as_dict(), "updated_at": _iso(preferences.updated_at)}
            if preferences
            else None
        ),
        "sessions": [_session_export(s) for s in sessions],
    }
    messages = sum(len(s["messages"]) for s in data["sessions"])
    _audit(
        actor=user,
        action="data.export",
        object_type="auth.user",
        object_id=user.pk,
        after={"via": via, "sessions": len(sessions), "messages": messages},
    )
    logger.info(
        "user data exported user_id=%s sessions=%s messages=%s", user.pk, len(sessions), messages
    )
    return data


# --- Erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    sessions_erased: int
    messages_erased: int
    # Sessions with an open escalation: kept while the care team follows up (docs/privacy.md).
    sessions_kept: int
    preferences_erased: bool
    exemplars_erased: int
    clinician_labels_erased: int
    deleted: dict[str, Any] = field(default_factory=dict)  # rows per model, cascades included

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions_erased": self.sessions_erased,
            "messages_erased": self.messages_erased,
            "sessions_kept": self.sessions_kept,
            "preferences_erased": self.preferences_erased,
            "exemplars_erased": self.exemplars_erased,
            "clinician_labels_erased": self.clinician_labels_erased,
        }


def _open_escalation() -> Exists:
    return Exists(Escalation.objects.filter(session=OuterRef("pk"), status=Escalation.Status.OPEN))


def _sessions_delete(session_ids: list[int]) -> tuple[int, dict[str, Any]]:
    """Delete sessions with everything that refers to them: messages, escalations and their
    alerts and e-mails, the work items of the clinician workspace with their ratings, labels
    and adjudications. Returns (messages deleted, rows deleted per model)."""
    if not session_ids:
        return 0, {}
    messages = Message.objects.filter(session_id__in=session_ids).count()
    _, per_model = ChatSession.objects.filter(pk__in=session_ids).delete()
    return messages, {label: n for label, n in sorted(per_model.items()) if n}


def user_data_erase(*, user: User, via: str) -> ErasureResult:
    """Erase what the chat stores about ``user``, in one transaction, audited (``data.erase``:
    ids and counts). Sessions, messages (and the clinician labels that refer to them), default
    preferences and the exemplars clinicians made from the user's messages are deleted; a session
    with an open escalation is kept until the escalation is closed. The account stays."""
    from conversations.services.exemplars import CACHE_KEY as EXEMPLAR_CACHE_KEY

    with transaction.atomic():
        # Lock the user's sessions: a chat turn in progress finishes first, a later one is a 404.
        all_ids = list(
            ChatSession.objects.select_for_update()
            .filter(user=user)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        kept = set(
            Escalation.objects.filter(
                session_id__in=all_ids, status=Escalation.Status.OPEN
            ).values_list("session_id", flat=True)
        )
        erase_ids = [pk for pk in all_ids if pk not in kept]
        exemplars, _ = RiskExemplar.objects.filter(
            source=RiskExemplar.Source.WORKSPACE, from_message__session_id__in=erase_ids
        ).delete()
        messages, deleted = _sessions_delete(erase_ids)
        if kept:
            # A kept session's copy of an erased session's summary goes too.
            ChatSession.objects.filter(pk__in=kept).update(previous_summary="")
        preferences, _ = ChatPreferences.objects.filter(user=user).delete()
        result = ErasureResult(
            sessions_erased=len(erase_ids),
            messages_erased=messages,
            sessions_kept=len(kept),
            preferences_erased=bool(preferences),
            exemplars_erased=exemplars,
            clinician_labels_erased=sum(deleted.get(label, 0) for label in CLINICIAN_WORK_MODELS),
            deleted=deleted,
        )
        _audit(
            actor=user,
            action="data.erase",
            object_type="auth.user",
            object_id=user.pk,
            after={
                "via": via,
                **result.as_dict(),
                "session_ids": erase_ids[:AUDIT_MAX_IDS],
                "kept_session_ids": sorted(kept)[:AUDIT_MAX_IDS],
                "deleted": deleted,
            },
        )
        if exemplars:
            transaction.on_commit(lambda: ttl_cache_invalidate(EXEMPLAR_CACHE_KEY))
    logger.info(
        "user data erased user_id=%s sessions=%s messages=%s kept=%s",
        user.pk,
        result.sessions_erased,
        result.messages_erased,
        result.sessions_kept,
    )
    return result


# --- Retention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    enabled: bool
    sessions: int = 0
    messages: int = 0
    held_open_escalation: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "sessions": self.sessions,
            "messages": self.messages,
            "held_open_escalation": self.held_open_escalation,
            "batches": self.batches,
        }


def _inactive_since(cutoff: datetime) -> QuerySet[ChatSession]:
    """Sessions with no activity (start, message, end, rating) since ``cutoff``."""
    return (
        ChatSession.objects.filter(created_at__lt=cutoff)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__lt=cutoff))
        .filter(Q(rated_at__isnull=True) | Q(rated_at__lt=cutoff))
        .exclude(Exists(Message.objects.filter(session=OuterRef("pk"), created_at__gte=cutoff)))
    )


def sessions_retention_purge(
    *,
    now: datetime | None = None,
    batch_size: int = RETENTION_BATCH_SIZE,
    max_batches: int = RETENTION_MAX_BATCHES,
) -> PurgeResult:
    """Delete sessions inactive for ``ARI_RETENTION_DAYS`` (0: off), never one with an open
    escalation, in batches; each batch is one transaction with its own audit event
    (``retention.purge``, ids and counts). Sessions a chat turn holds are skipped this time."""
    days = settings.ARI_RETENTION_DAYS
    if days <= 0:
        return PurgeResult(enabled=False)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = _inactive_since(cutoff)
    held = expired.filter(_open_escalation()).count()
    purgeable = expired.exclude(_open_escalation())
    sessions = messages = batches = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(
                purgeable.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            batch_messages, deleted = _sessions_delete(ids)
            _audit(
                actor=None,
                action="retention.purge",
                object_type="conversations.chatsession",
                object_id=f"before {cutoff.date().isoformat()}",
                after={
                    "retention_days": days,
                    "cutoff": cutoff.isoformat(),
                    "sessions": len(ids),
                    "messages": batch_messages,
                    "held_open_escalation": held,
                    "session_ids": ids[:AUDIT_MAX_IDS],
                    "deleted": deleted,
                },
            )
        sessions += len(ids)
        messages += batch_messages
        batches += 1
        if len(ids) < batch_size:
            break
    if sessions or held:
        logger.info(
            "retention purge days=%s sessions=%s messages=%s held=%s",
            days,
            sessions,
            messages,
            held,
        )
    return PurgeResult(
        enabled=True,
        sessions=sessions,
        messages=messages,
        held_open_escalation=held,
        batches=batches,
    )


# --- Revealing raw text to staff -------------------------------------------------------------


def reveal_reason_clean(reason: object) -> str:
    """The reason for a reveal: required, ``REVEAL_REASON_MIN_CHARS`` to
    ``REVEAL_REASON_MAX_CHARS`` characters, one line."""
    reason = " ".join(str(reason or "").split())
    if len(reason) < REVEAL_REASON_MIN_CHARS:
        raise ApplicationError(
            f"Give a reason for seeing the unmasked text (at least {REVEAL_REASON_MIN_CHARS} "
            "characters); it is kept in the audit log."
        )
    if len(reason) > REVEAL_REASON_MAX_CHARS:
        raise ApplicationError(
            f"The reason is {len(reason)} characters long; keep it to {REVEAL_REASON_MAX_CHARS}."
        )
    return reason


def transcript_reveal(*, actor: User, session_id: int, reason: str) -> ChatSession:
    """A session with its raw (unmasked) messages, for staff who gave a reason. Every reveal is
    audited (``transcript.reveal``: session id, the reason, the number of messages shown)."""
    reason = reveal_reason_clean(reason)
    session = (
        ChatSession.objects.filter(pk=session_id)
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id"))
        )
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    count = len(session.messages.all())
    _audit(
        actor=actor,
        action="transcript.reveal",
        obj=session,
        after={"session_id": session.pk, "reason": reason, "messages": count},
    )
    logger.info("transcript revealed session_id=%s actor_id=%s", session.pk, actor.pk)
    return session
