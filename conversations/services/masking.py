"""Messages as clinicians read them: masked once, stored, read back on every later page."""

from __future__ import annotations

from collections.abc import Sequence

from ari_review.privacy.masking import MASKING_VERSION, mask_text
from conversations.models import Message


def message_texts_masked(*, messages: Sequence[Message]) -> list[str]:
    """Each message's text masked (``mask_text``), in order. A mask stored with the current
    ``MASKING_VERSION`` is read back; the others are masked (each distinct text once: many
    replies share approved wordings) and stored in one UPDATE, so no page masks a message that
    a page has masked before. The messages need ``text``, ``text_masked`` and
    ``text_masked_version`` loaded."""
    fresh: dict[str, str] = {}
    stale: list[Message] = []
    for message in messages:
        if message.text_masked_version != MASKING_VERSION:
            if message.text not in fresh:
                fresh[message.text] = mask_text(message.text)
            message.text_masked = fresh[message.text]
            message.text_masked_version = MASKING_VERSION
            stale.append(message)
    if stale:
        Message.objects.bulk_update(stale, ["text_masked", "text_masked_version"])
    return [message.text_masked for message in messages]
