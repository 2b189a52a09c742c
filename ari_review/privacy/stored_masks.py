"""Masks stored on the rows whose text they mask (a chat message, an imported labelling item):
made once, when the row is stored (a task after the chat turn or the import), read back by
every page; a page masks, and stores, only what is still missing or was made by an older
``MASKING_VERSION``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from django.db import models

from ari_review.privacy.masking import MASKING_VERSION, mask_text

MASK_FIELDS = ("text_masked", "text_masked_version")


class _Masked(Protocol):
    text: str
    text_masked: str
    text_masked_version: int


Row = TypeVar("Row", bound=models.Model)


def texts_masked(texts: Iterable[str]) -> dict[str, str]:
    """``{text: mask_text(text)}``, each distinct text masked once (many replies share approved
    wordings; imported corpora repeat questions)."""
    masks: dict[str, str] = {}
    for text in texts:
        if text not in masks:
            masks[text] = mask_text(text)
    return masks


def masks_stored(rows: Sequence[Row]) -> list[str]:
    """Each row's text masked, in order. A mask stored with the current ``MASKING_VERSION`` is
    read back; the others are masked (each distinct text once) and stored in one UPDATE. The
    rows (all of one model with ``text``, ``text_masked`` and ``text_masked_version``) need those
    fields loaded."""
    said: Sequence[_Masked] = rows  # type: ignore[assignment]  # the fields named above
    stale = [row for row in said if row.text_masked_version != MASKING_VERSION]
    if stale:
        masks = texts_masked(row.text for row in stale)
        for row in stale:
            row.text_masked = masks[row.text]
            row.text_masked_version = MASKING_VERSION
        model = type(rows[0])
        model._default_manager.bulk_update(stale, list(MASK_FIELDS))  # type: ignore[arg-type]
    return [row.text_masked for row in said]
