"""Masked texts for the workspace's pages: a production message's mask is stored on it
(``conversations.services.masking.message_texts_masked``), an imported item's own text's on the
item (``ari_review.privacy.stored_masks``: the import's batch task stores them); any other text
(an imported context, a candidate reply, a seed dialogue) is masked through the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.core.cache import cache

from ari_review.privacy.masking import MASKING_VERSION, mask_text
from ari_review.privacy.stored_masks import masks_stored
from conversations.services.masking import message_texts_masked
from evaluation.models import WorkItem

# Masking (NER) costs about 10 ms a text, 100 texts a page: masked texts are cached by the hash
# of the text (the key carries no text), so a page read again costs one cache round trip.
MASK_CACHE_SECONDS = 24 * 3600


def masked_many(texts: list[str]) -> list[str]:
    """Each text masked (``mask_text``), through the cache (keyed by the masking's version and
    the text's hash: a new ``MASKING_VERSION`` misses every older entry)."""
    keys = [f"dsmask:{MASKING_VERSION}:{hashlib.sha256(t.encode()).hexdigest()}" for t in texts]
    found = cache.get_many(keys)
    missing = {}
    out = []
    for key, text in zip(keys, texts, strict=True):
        if key not in found:
            found[key] = missing[key] = mask_text(text)
        out.append(found[key])
    if missing:
        cache.set_many(missing, MASK_CACHE_SECONDS)
    return out


def work_item_texts_masked(*, items: Sequence[WorkItem]) -> dict[int, str]:
    """``{item id: masked text}`` for labelling items with a text: a production message's
    stored mask, an imported text's stored on the item (masked and stored when missing). The
    items need ``message`` read with them (``select_related``)."""
    said = [(item.pk, item.message) for item in items if item.message_id and item.message]
    stored = message_texts_masked(messages=[message for _, message in said])
    masked = {pk: text for (pk, _), text in zip(said, stored, strict=True)}
    imported = [item for item in items if not item.message_id and item.text]
    masked.update(zip([i.pk for i in imported], masks_stored(imported), strict=True))
    return masked
