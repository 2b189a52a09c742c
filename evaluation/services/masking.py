"""The import's batch step: an imported item's own text is masked once, after the import, and
stored on the item (``WorkItem.text_masked``), so the dataset browser, the queues and the item
pages read it back instead of masking it on a first view. Fail-safe like the chat turn's task:
the import is committed first; what the task does not mask, the first page that shows it masks
(and stores). An imported context and candidate replies stay with the masking cache."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from django.db import transaction

from ari_review.celery import task_enqueue_long
from ari_review.privacy.masking import MASKING_VERSION
from ari_review.privacy.stored_masks import MASK_FIELDS, masks_stored
from evaluation.models import WorkItem

logger = logging.getLogger(__name__)

WORK_ITEM_MASKS_TASK = "evaluation.tasks.work_item_masks_store_task"
# Items masked by one run of the task (~10 ms a distinct text); the rest go to the next run.
MASK_BATCH = 500


def work_item_masks_store(*, item_ids: Sequence[int]) -> int:
    """Store the mask of the first ``MASK_BATCH`` of these imported items' texts (those without
    one of the current ``MASKING_VERSION``: safe to run twice) and queue the rest as the next
    batch. Returns how many were masked now."""
    ids = [int(pk) for pk in item_ids]
    batch, rest = ids[:MASK_BATCH], ids[MASK_BATCH:]
    stale = list(
        WorkItem.objects.filter(pk__in=batch, message__isnull=True)
        .exclude(text="")
        .exclude(text_masked_version=MASKING_VERSION)
        .only("id", "text", *MASK_FIELDS)
        .order_by("pk")
    )
    masks_stored(stale)
    if rest:
        work_item_masks_queue(item_ids=rest)
    return len(stale)


def work_item_masks_queue(*, item_ids: Sequence[int]) -> None:
    """Queue the batch task for these items (in-process mode: in a background thread, so an
    import does not wait on it). Never raises: the pages mask what it does not."""
    ids = [int(pk) for pk in item_ids]
    if not ids:
        return
    try:
        task_enqueue_long(WORK_ITEM_MASKS_TASK, args=(ids,), queue="default")
    except Exception as exc:  # noqa: BLE001 - the pages mask what is missing
        logger.error("imported masks not queued items=%s (%s)", len(ids), type(exc).__name__)


def imported_items_masks_queue(items: Sequence[WorkItem]) -> None:
    """For an importer, after it stored ``items``: mask their texts once the import commits."""
    ids = [item.pk for item in items if item.pk is not None and item.text]
    if ids:
        transaction.on_commit(partial(work_item_masks_queue, item_ids=ids))
