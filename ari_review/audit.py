"""The append-only audit trail: every rating, label, approval and edit records who, when,
before and after, in the same transaction as the change itself; every export records who,
with which filter and how many rows."""

from __future__ import annotations

from django.db import models

from ari_review.models import AuditEvent


def audit_event_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )


def export_audit_record(
    *, actor, export: str, format: str, rows: int, filters: dict, via: str
) -> AuditEvent:
    """Who exported what (``export``: dialogues, safety_labels...; ``format``), with which
    filter and how many rows; ``via``: the admin action or command. Filters hold ids and
    parameters only, never text."""
    return audit_event_record(
        actor=actor,
        action=f"export.{export}",
        object_type="evaluation.export",
        object_id=export,
        after={"format": format, "rows": rows, "filters": filters, "via": via},
    )


def transcript_view_record(
    *,
    actor,
    via: str,
    item=None,
    session_id=None,
    message_id=None,
    masked: bool = True,
) -> AuditEvent:
    """Who viewed which session's messages: a work item (a session to rate, a message to label
    with its context, a comparison) or a session or message in the Django admin. The event names
    the session (``conversations.chatsession``; the work item where there is none, e.g. imported
    text) and ids only. ``masked=False``: the text was shown unmasked, recorded as
    ``transcript.reveal``."""
    after = {"via": via, "masked": masked}
    if item is not None:
        after.update(work_item=item.pk, kind=item.kind)
        message_id = message_id or item.message_id
        if session_id is None:
            session_id = item.session_id or (item.message.session_id if item.message_id else None)
    if message_id is not None:
        after["message"] = message_id
    if session_id is not None:
        object_type, object_id = "conversations.chatsession", str(session_id)
    else:
        object_type, object_id = "evaluation.workitem", item.pk if item is not None else ""
    return audit_event_record(
        actor=actor,
        action="transcript.view" if masked else "transcript.reveal",
        object_type=object_type,
        object_id=object_id,
        after=after,
    )


def labels_view_record(*, actor, item_ids: list[int], via: str) -> AuditEvent:
    """Who read other clinicians' labels of which work items (disagreements, label admin)."""
    return audit_event_record(
        actor=actor,
        action="labels.view",
        object_type="evaluation.workitem",
        object_id=item_ids[0] if len(item_ids) == 1 else "",
        after={"via": via, "items": item_ids},
    )
