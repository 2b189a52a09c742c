"""Safety labels (risk level, category, urgency) and intent labels."""

from __future__ import annotations

import logging

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from conversations.models import Intent, RiskCategory, RiskLevel
from evaluation.models import IntentLabel, SafetyLabel, Urgency, WorkItem
from evaluation.services.live_fn import live_fn_miss_record
from evaluation.services.queues.work import work_item_record_review

logger = logging.getLogger(__name__)


def _check_safety(*, risk_level: str, category: str, urgency: str, text_role: str) -> None:
    if risk_level not in RiskLevel.values:
        raise ApplicationError(f"Risk level must be one of: {', '.join(RiskLevel.values)}.")
    if category not in RiskCategory.values:
        names = ", ".join(v for v in RiskCategory.values if v)
        raise ApplicationError(f"Category must be empty or one of: {names}.")
    if urgency not in Urgency.values:
        raise ApplicationError(f"Urgency must be one of: {', '.join(Urgency.values)}.")
    if text_role != "user":
        return  # Ari's replies (unsafe candidates) are labelled without a user risk category.
    if risk_level == RiskLevel.NONE and category:
        raise ApplicationError("A message with no risk has no risk category.")
    if risk_level in (RiskLevel.MEDIUM, RiskLevel.HIGH) and not category:
        raise ApplicationError("Choose a risk category for a medium or high risk message.")


@transaction.atomic
def safety_label_create(
    *,
    item: WorkItem,
    clinician,
    risk_level: str,
    category: str = "",
    urgency: str = Urgency.NONE,
    suggestion_shown: bool = False,
) -> SafetyLabel:
    _check_safety(
        risk_level=risk_level, category=category, urgency=urgency, text_role=item.text_role
    )
    item = work_item_record_review(item=item, clinician=clinician, kind=WorkItem.Kind.SAFETY)
    label = SafetyLabel.objects.create(
        item=item,
        clinician=clinician,
        risk_level=risk_level,
        category=category,
        urgency=urgency,
        suggestion_shown=suggestion_shown,
    )
    audit_event_record(
        actor=clinician,
        action="safety_label.create",
        obj=label,
        after={
            "item_id": item.pk,
            "risk_level": risk_level,
            "category": category,
            "urgency": urgency,
            "suggestion_shown": suggestion_shown,
        },
    )
    live_fn_miss_record(item=item, risk_level=risk_level)  # a blinded sample labelled high
    logger.info("safety label item_id=%s label_id=%s", item.pk, label.pk)
    return label


@transaction.atomic
def intent_label_create(
    *, item: WorkItem, clinician, intent: str, suggestion_shown: bool = False
) -> IntentLabel:
    if intent not in Intent.values:
        raise ApplicationError(f"Intent must be one of: {', '.join(Intent.values)}.")
    item = work_item_record_review(item=item, clinician=clinician, kind=WorkItem.Kind.INTENT)
    label = IntentLabel.objects.create(
        item=item, clinician=clinician, intent=intent, suggestion_shown=suggestion_shown
    )
    audit_event_record(
        actor=clinician,
        action="intent_label.create",
        obj=label,
        after={"item_id": item.pk, "intent": intent, "suggestion_shown": suggestion_shown},
    )
    logger.info("intent label item_id=%s label_id=%s", item.pk, label.pk)
    return label
