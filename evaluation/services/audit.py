"""The append-only audit trail: every rating, label, approval and edit records who, when,
before and after, in the same transaction as the change itself; every export records who,
with which filter and how many rows."""

from __future__ import annotations

from django.db import models

from evaluation.models import AuditEvent


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
