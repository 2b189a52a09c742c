"""The audit trail, filtered."""

from __future__ import annotations

from django.db.models import QuerySet

from ari_review.models import AuditEvent


def audit_events_list(
    *, action: str = "", actor: str = "", object_type: str = ""
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_name=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs.order_by("-created_at", "-id")
