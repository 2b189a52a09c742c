"""A clinician changes their own labels: undo the last one (the item goes back to the queue for
them) or edit one. Both are audited with the values before and after, so a label's history is
the audit trail (``safety_label.undo`` / ``.update``, ``intent_label.undo`` / ``.update``).
A label already settled by an adjudication is not changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from conversations.models import Intent
from evaluation.label_sets import LABEL_MODEL_BY_KIND
from evaluation.models import WorkItem
from evaluation.services.labels import safety_label_values_check

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from evaluation.label_sets import LabelModel

logger = logging.getLogger(__name__)

FIELDS: dict[str, tuple[str, ...]] = {
    WorkItem.Kind.SAFETY: ("risk_level", "category", "urgency"),
    WorkItem.Kind.INTENT: ("intent",),
}


def _values(label: LabelModel, kind: str) -> dict[str, Any]:
    return {name: getattr(label, name) for name in FIELDS[kind]}


def _model(kind: str) -> type[LabelModel]:
    if kind not in FIELDS:
        raise ApplicationError("Only safety and intent labels can be undone or edited.")
    return LABEL_MODEL_BY_KIND[kind]


def _check_open(item: WorkItem) -> None:
    if item.adjudications.exists():
        raise ApplicationError("This item was adjudicated; its labels are settled.")


@transaction.atomic
def label_undo_last(*, clinician: User, kind: str) -> WorkItem:
    """Delete the clinician's most recent label of ``kind``; its item counts one review fewer
    and is open again. Returns the item (to label it again)."""
    label = (
        _model(kind)
        .objects.select_for_update()
        .filter(clinician=clinician)
        .order_by("-created_at", "-id")
        .first()
    )
    if label is None:
        raise ApplicationError("You have no label to undo.")
    item = WorkItem.objects.select_for_update().get(pk=label.item_id)
    _check_open(item)
    before = {"item_id": item.pk, **_values(label, kind)}
    label_id = label.pk
    label.delete()
    item.reviews_done = max(0, item.reviews_done - 1)
    item.status = WorkItem.Status.OPEN
    item.completed_at = None
    item.save(update_fields=["reviews_done", "status", "completed_at"])
    audit_event_record(
        actor=clinician,
        action=f"{kind}_label.undo",
        object_type=f"evaluation.{kind}label",
        object_id=label_id,
        before=before,
    )
    logger.info("%s label undone item_id=%s label_id=%s", kind, item.pk, label_id)
    return item


@transaction.atomic
def label_update(
    *, clinician: User, kind: str, label_id: int, values: dict[str, Any]
) -> LabelModel:
    """Change one of the clinician's own labels (someone else's is not found)."""
    label = (
        _model(kind).objects.select_for_update().filter(pk=label_id, clinician=clinician).first()
    )
    if label is None:
        raise ApplicationError("No such label of yours.", status_code=404)
    _check_open(label.item)
    changes = {name: values.get(name, getattr(label, name)) or "" for name in FIELDS[kind]}
    if kind == WorkItem.Kind.SAFETY:
        changes["urgency"] = changes["urgency"] or "none"
        safety_label_values_check(**changes, text_role=label.item.text_role)
    elif changes["intent"] not in Intent.values:
        raise ApplicationError(f"Intent must be one of: {', '.join(Intent.values)}.")
    before = _values(label, kind)
    for name, value in changes.items():
        setattr(label, name, value)
    label.save(update_fields=list(changes))
    audit_event_record(
        actor=clinician,
        action=f"{kind}_label.update",
        obj=label,
        before={"item_id": label.item_id, **before},
        after={"item_id": label.item_id, **changes},
    )
    return label
