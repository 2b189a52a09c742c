"""Messages as clinicians read them: masked once when stored (the task after the chat turn),
read back on every later page; a page masks, and stores, only what is still missing.

A chat turn queues :func:`messages_mask_store` for its message and reply after commit
(:func:`message_masks_queue`), without waiting on the broker. It is fail-safe: the message is
already stored and the reply already written, so a broker that is down or a masking that fails
leaves the mask to the first page that shows the message (:func:`message_texts_masked`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ari_review.celery import task_enqueue_nowait
from ari_review.privacy.masking import MASKING_VERSION, mask_text
from conversations.models import Message

logger = logging.getLogger(__name__)

MESSAGE_MASKS_TASK = "conversations.tasks.message_masks_store_task"
_MASK_FIELDS = ("id", "text", "text_masked", "text_masked_version")


def texts_masked(texts: Iterable[str]) -> dict[str, str]:
    """``{text: mask_text(text)}``, each distinct text masked once (many replies share approved
    wordings). The load generator stores these on its messages, as the task after a turn does."""
    masks: dict[str, str] = {}
    for text in texts:
        if text not in masks:
            masks[text] = mask_text(text)
    return masks


def message_texts_masked(*, messages: Sequence[Message]) -> list[str]:
    """Each message's text masked (``mask_text``), in order. A mask stored with the current
    ``MASKING_VERSION`` is read back; the others are masked (each distinct text once) and stored
    in one UPDATE, so no page masks a message that a page or the task has masked before. The
    messages need ``text``, ``text_masked`` and ``text_masked_version`` loaded."""
    stale = [m for m in messages if m.text_masked_version != MASKING_VERSION]
    if stale:
        masks = texts_masked(m.text for m in stale)
        for message in stale:
            message.text_masked = masks[message.text]
            message.text_masked_version = MASKING_VERSION
        Message.objects.bulk_update(stale, ["text_masked", "text_masked_version"])
    return [message.text_masked for message in messages]


def messages_mask_store(*, message_ids: Sequence[int]) -> int:
    """Store the mask of each of these messages that has none with the current
    ``MASKING_VERSION`` (safe to run twice: a stored mask is left alone). Returns how many were
    masked now."""
    stale = list(
        Message.objects.filter(pk__in=message_ids)
        .exclude(text_masked_version=MASKING_VERSION)
        .only(*_MASK_FIELDS)
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
