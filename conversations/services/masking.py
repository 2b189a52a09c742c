"""Messages as clinicians read them: masked once soon after they are stored (a beat sweep over
the last minutes' messages), read back on every later page; a page masks, and stores, only what
is still missing.

The chat turn itself does nothing for the masks (no broker round trip, no masking on the
user's wait): :func:`messages_mask_sweep` runs every minute and stores the masks of the recent
messages that have none. It is fail-safe: a sweep that does not run (no beat, the quick start's
in-process mode, a worker down) leaves the masks to the first page that shows the messages
(:func:`message_texts_masked`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from ari_review.privacy.masking import MASKING_VERSION
from ari_review.privacy.stored_masks import MASK_FIELDS, masks_stored
from conversations.models import Message

logger = logging.getLogger(__name__)

# How far back the sweep looks (it runs every minute; a longer outage is the pages' to cover),
# and how many messages one run masks at most (about 10 ms each).
SWEEP_WINDOW = timedelta(minutes=15)
SWEEP_LIMIT = 2000


def message_texts_masked(*, messages: Sequence[Message]) -> list[str]:
    """Each message's text masked (``mask_text``), in order: a stored mask read back, the others
    masked and stored (``masks_stored``), so no page masks a message that a page or the task has
    masked before. The messages need ``text``, ``text_masked`` and ``text_masked_version``
    loaded."""
    return masks_stored(messages)


def messages_mask_sweep(*, window: timedelta = SWEEP_WINDOW, limit: int = SWEEP_LIMIT) -> int:
    """Store the masks of the messages of the last ``window`` that have none with the current
    ``MASKING_VERSION``, newest first, at most ``limit`` (read through the ``created_at``
    index). Returns how many were masked."""
    since = timezone.now() - window
    stale = list(
        Message.objects.filter(created_at__gte=since)
        .exclude(text_masked_version=MASKING_VERSION)
        .only("id", "text", *MASK_FIELDS)
        .order_by("-created_at")[:limit]
    )
    message_texts_masked(messages=stale)
    return len(stale)
