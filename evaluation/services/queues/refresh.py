"""Refreshing every queue at once (the periodic task and ``refresh_queues``)."""

from __future__ import annotations

from evaluation.models import WorkItem
from evaluation.services.queues.labelling import label_queue_refresh
from evaluation.services.queues.review import review_queue_refresh


def work_queues_refresh() -> dict[str, object]:
    return {
        "review": review_queue_refresh(),
        "safety": label_queue_refresh(kind=WorkItem.Kind.SAFETY),
        "intent": label_queue_refresh(kind=WorkItem.Kind.INTENT),
    }
