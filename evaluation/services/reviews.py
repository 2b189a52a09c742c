"""Session ratings: overall appropriateness, per-reply flags and validation, a note."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from conversations.models import Message
from evaluation.models import (
    Appropriateness,
    ReplyAssessment,
    ReplyFlag,
    SessionRating,
    WorkItem,
)
from evaluation.services.queues.work import work_item_record_review

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyInput:
    message_id: int
    flags: tuple[str, ...] = ()
    validated: bool | None = None


def _check_replies(item: WorkItem, replies: list[ReplyInput]) -> list[ReplyInput]:
    seen: set[int] = set()
    ids = {r.message_id for r in replies}
    assistant_ids = set(
        Message.objects.filter(
            session_id=item.session_id, role=Message.Role.ASSISTANT, id__in=ids
        ).values_list("id", flat=True)
    )
    cleaned = []
    for reply in replies:
        if reply.message_id not in assistant_ids:
            raise ApplicationError(
                f"Message {reply.message_id} is not one of Ari's replies in this session."
            )
        if reply.message_id in seen:
            raise ApplicationError(f"Message {reply.message_id} is assessed twice.")
        seen.add(reply.message_id)
        bad = [f for f in reply.flags if f not in ReplyFlag.values]
        if bad:
            raise ApplicationError(
                f"Unknown reply flag {bad[0]!r}; choose from: {', '.join(ReplyFlag.values)}."
            )
        flags = tuple(f for f in ReplyFlag.values if f in reply.flags)
        if flags or reply.validated is not None:
            cleaned.append(ReplyInput(reply.message_id, flags, reply.validated))
    return cleaned


@transaction.atomic
def session_rating_create(
    *,
    item: WorkItem,
    clinician: User,
    appropriateness: str,
    replies: list[ReplyInput] | None = None,
    note: str = "",
) -> SessionRating:
    if appropriateness not in Appropriateness.values:
        raise ApplicationError(
            f"Appropriateness must be one of: {', '.join(Appropriateness.values)}."
        )
    session_id = item.session_id
    if item.kind != WorkItem.Kind.REVIEW or session_id is None:
        raise ApplicationError("This item is not a session review.")
    replies = _check_replies(item, list(replies or []))
    item = work_item_record_review(item=item, clinician=clinician, kind=WorkItem.Kind.REVIEW)
    rating = SessionRating.objects.create(
        item=item,
        session_id=session_id,
        clinician=clinician,
        appropriateness=appropriateness,
        note=note.strip(),
    )
    ReplyAssessment.objects.bulk_create(
        [
            ReplyAssessment(
                rating=rating, message_id=r.message_id, flags=list(r.flags), validated=r.validated
            )
            for r in replies
        ]
    )
    audit_event_record(
        actor=clinician,
        action="session_rating.create",
        obj=rating,
        after={
            "item_id": item.pk,
            "session_id": item.session_id,
            "appropriateness": appropriateness,
            "replies": [
                {"message_id": r.message_id, "flags": list(r.flags), "validated": r.validated}
                for r in replies
            ],
            "note": rating.note,
        },
    )
    logger.info("session rated item_id=%s rating_id=%s", item.pk, rating.pk)
    return rating
