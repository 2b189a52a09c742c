"""Training refuses frozen texts: the database's frozen test sets (evaluation app) join the
frozen split files and the external dev set as inputs no training row may repeat.

A row repeats a frozen input when its text with its history is a frozen item's input, or when
its text or any earlier turn is a frozen text; only frozen inputs of at least ``MIN_CHARS``
characters count (normalised): shorter ones, the edge set's "ok" and "hi", are everyday words
that training rows rightly hold, as the build's check of the external dev set does. Database
labels that repeat one are dropped (as those repeating the frozen split already are); a
shipped training file that repeats one is an error to fix in the data: training is refused,
with the count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ari_review.api.errors import ApplicationError
from evaluation.selectors.frozen_sets import frozen_row_fingerprints, frozen_text_fingerprints
from training_jobs.ml import data as datasets

logger = logging.getLogger(__name__)
MIN_CHARS = 15


class FrozenTexts:
    def __init__(self) -> None:
        self.rows = frozen_row_fingerprints(min_chars=MIN_CHARS)
        self.texts = frozen_text_fingerprints(min_chars=MIN_CHARS)

    def repeats(self, row: dict) -> bool:
        if not self.rows:
            return False
        if datasets.row_fingerprint(row) in self.rows:
            return True
        return any(
            datasets.text_fingerprint(t) in self.texts
            for t in (row["text"], *(row.get("history") or []))
        )


def training_rows_without_frozen(
    *, kind: str, database_rows: Iterable[dict], paths: datasets.DatasetPaths | None
) -> list[dict]:
    """``database_rows`` without those repeating a frozen input; raises when a shipped training
    row repeats one."""
    frozen = FrozenTexts()
    rows = list(database_rows)
    if not frozen.rows:
        return rows
    shipped = datasets.load_training_rows(kind, paths=paths)
    leaked = sum(frozen.repeats(r) for r in shipped)
    if leaked:
        raise ApplicationError(
            f"Training refused: {leaked} shipped {kind} training row(s) repeat a frozen test "
            "set's text. Remove them from the dataset files (the frozen sets are in the "
            "workspace's evaluation pages)."
        )
    kept = [r for r in rows if not frozen.repeats(r)]
    if len(kept) != len(rows):
        logger.info(
            "training dropped %s database rows repeating frozen texts", len(rows) - len(kept)
        )
    return kept
