"""Adjudication: a senior clinician decides the final label of an item whose labels disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.roles import ADMIN, user_has_role
from evaluation.label_sets import LABEL_SETS
from evaluation.models import Adjudication, WorkItem

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def user_is_senior(user: User) -> bool:
    """Admins, and clinicians given the ``evaluation.adjudicate`` permission."""
    return user_has_role(user, ADMIN) or user.has_perm("evaluation.adjudicate")


@transaction.atomic
def adjudication_create(
    *, item: WorkItem, label_set: str, value: str, decided_by: User, reason: str = ""
) -> Adjudication:
    if not user_is_senior(decided_by):
        raise ApplicationError("Only a senior clinician may adjudicate.", status_code=403)
    spec = LABEL_SETS.get(label_set)
    if spec is None:
        raise ApplicationError(f"Unknown label set {label_set!r}.")
    if spec.kind != item.kind:
        raise ApplicationError(f"{spec.title} is not a label of this item.")
    if value not in spec.values:
        raise ApplicationError(f"{spec.title} must be one of: {', '.join(spec.values)}.")
    labels = spec.model.objects.filter(item=item).count()
    if labels < 2:
        raise ApplicationError("Only items labelled by two or more clinicians are adjudicated.")
    if Adjudication.objects.filter(item=item, label_set=label_set).exists():
        raise ApplicationError("This disagreement has already been decided.")
    adjudication = Adjudication.objects.create(
        item=item,
        label_set=label_set,
        value=value,
        decided_by=decided_by,
        reason=(reason or "").strip(),
    )
    audit_event_record(
        actor=decided_by,
        action="adjudication.create",
        obj=adjudication,
        after={
            "item_id": item.pk,
            "label_set": label_set,
            "value": value,
            "reason": adjudication.reason,
        },
    )
    return adjudication
