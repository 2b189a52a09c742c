"""Messages as clinicians read them: masked once when stored (the task after the chat turn),
read back on every later page; a page masks, and stores, only what is still missing.

A chat turn queues :func:`messages_mask_store` for its message and reply after commit
(:func:`message_masks_queue`), without waiting on the broker. It is fail-safe: the message is
already stored and the reply already written, so a broker that is down or a masking that fails
leaves the mask to the first page that shows the message (:func:`message_texts_masked`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ari_review.celery import task_enqueue_nowait
from ari_review.privacy.masking import MASKING_VERSION
from ari_review.privacy.stored_masks import MASK_FIELDS, masks_stored
from conversations.models import Message

logger = logging.getLogger(__name__)

MESSAGE_MASKS_TASK = "conversations.tasks.message_masks_store_task"


def message_texts_masked(*, messages: Sequence[Message]) -> list[str]:
    """Each message's text masked (``mask_text``), in order: a stored mask read back, the others
    masked and stored (``masks_stored``), so no page masks a message that a page or the task has
    masked before. The messages need ``text``, ``text_masked`` and ``text_masked_version``
    loaded."""
    return masks_stored(messages)


def messages_mask_store(*, message_ids: Sequence[int]) -> int:
    """Store the mask of each of these messages that has none with the current
    ``MASKING_VERSION`` (safe to run twice: a stored mask is left alone). Returns how many were
    masked now."""
    stale = list(
        Message.objects.filter(pk__in=message_ids)
        .exclude(text_masked_version=MASKING_VERSION)
        .only("id", "text", *MASK_FIELDS)
        .order_by("pk")
    )
    message_texts_masked(messages=stale)
    return len(stale)


def message_masks_queue(*, message_ids: Sequence[int]) -> None:
    """After a turn's commit: queue the masking of its messages. Never raises and never waits on
    the broker (``task_enqueue_nowait``; without one, the quick start masks them in-process
    now): whatever is not masked here is masked by the first page that shows it."""
    ids = [int(pk) for pk in message_ids]
    try:
        task_enqueue_nowait(MESSAGE_MASKS_TASK, kwargs={"message_ids": ids})
    except Exception as exc:  # noqa: BLE001 - the pages mask what this did not
        logger.error("message masks not stored message_ids=%s (%s)", ids, type(exc).__name__)
