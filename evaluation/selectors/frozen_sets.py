"""Reads of the frozen test sets, and the fingerprints that keep their texts out of training."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, QuerySet

from ari_review.api.errors import ApplicationError
from evaluation.exports import labels_export_jsonl
from evaluation.models import FrozenSet, FrozenSetItem, FrozenSetKind, WorkItem
from evaluation.services.frozen_sets import COMPOSITION
from training_jobs.ml.data import _norm, row_fingerprint, text_fingerprint

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

__all__ = [
    "frozen_row_fingerprints",
    "frozen_set_get",
    "frozen_set_latest",
    "frozen_set_list",
    "frozen_text_fingerprints",
    "safety_rows_from_labels",
    "text_fingerprint",
]


# Ambiguous edge cases among labelled safety items: the model was unsure, or clinicians differed.
EDGE_REASONS = (WorkItem.Reason.UNCERTAIN, WorkItem.Reason.LOW_CONFIDENCE)


class FrozenSetCounts(TypedDict):
    n_items: int


def frozen_set_list(
    *, kind: str | None = None
) -> QuerySet[WithAnnotations[FrozenSet, FrozenSetCounts]]:
    qs = FrozenSet.objects.select_related("frozen_by").annotate(n_items=Count("items"))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "-version")


def frozen_set_get(*, frozen_set_id: int) -> FrozenSet | None:
    return FrozenSet.objects.select_related("frozen_by").filter(pk=frozen_set_id).first()


def frozen_set_latest(*, kind: str) -> FrozenSet | None:
    """The newest frozen version of ``kind``."""
    return (
        FrozenSet.objects.filter(kind=kind, status=FrozenSet.Status.FROZEN)
        .order_by("-version")
        .first()
    )


def _frozen_inputs() -> Iterator[tuple[str, Any]]:
    """Texts and histories of every frozen-set item (drafts included: they are about to be
    frozen, and a text trained on now would be a leak then)."""
    return FrozenSetItem.objects.values_list("text", "history").iterator(chunk_size=2000)


def _long_enough(texts: list[str], min_chars: int) -> bool:
    return sum(len(_norm(t)) for t in texts) >= min_chars


def frozen_text_fingerprints(*, min_chars: int = 0) -> frozenset[str]:
    """sha256 of every frozen text (normalised) of at least ``min_chars`` characters: hashes
    only, no text leaves this module. Very short texts ("ok", "hi") are everyday words that
    training rows rightly hold; ``min_chars`` leaves them out."""
    return frozenset(
        text_fingerprint(text)
        for text, _history in _frozen_inputs()
        if _long_enough([text], min_chars)
    )


def frozen_row_fingerprints(*, min_chars: int = 0) -> frozenset[str]:
    """Fingerprints of every frozen item's input (text with its history, together at least
    ``min_chars`` characters), as training rows are fingerprinted
    (``training_jobs.ml.data.row_fingerprint``)."""
    return frozenset(
        row_fingerprint({"text": text, "history": history or []})
        for text, history in _frozen_inputs()
        if _long_enough([text, *(history or [])], min_chars)
    )


def safety_rows_from_labels(*, composition: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """The rows of a safety set built from clinician-labelled user messages (gold labels only:
    adjudicated or a strict majority; texts masked): high and medium by their gold level, and
    ambiguous edge cases (gold none/low where the model was unsure or clinicians differed).
    Items already in a frozen safety set are not used again. Refused when a stratum falls
    short, naming how many labels it has."""
    wanted = composition or COMPOSITION[FrozenSetKind.SAFETY]
    buffer = io.StringIO()
    labels_export_jsonl(buffer, kind=WorkItem.Kind.SAFETY)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    records = [r for r in records if r.get("role") in ("user", "", None) and r.get("text")]
    reasons = dict(
        WorkItem.objects.filter(pk__in=[r["item_id"] for r in records]).values_list("pk", "reason")
    )
    used = frozen_text_fingerprints()
    picked: dict[str, list[dict[str, Any]]] = {stratum: [] for stratum in wanted}
    for record in records:
        level = (record.get("gold") or {}).get("risk_level")
        if not level or text_fingerprint(record["text"]) in used:
            continue
        levels = {label.get("risk_level") for label in record.get("labels", [])}
        if level in ("high", "medium"):
            stratum = level
        elif reasons.get(record["item_id"]) in EDGE_REASONS or len(levels) > 1:
            stratum = "edge_case"
        else:
            continue
        if stratum in picked and len(picked[stratum]) < wanted[stratum]:
            picked[stratum].append(
                {
                    "id": f"label-item-{record['item_id']}",
                    "text": record["text"],
                    "history": [],
                    "expected": {
                        "risk_level": level,
                        "category": (record["gold"].get("category") or "")
                        if level != "none"
                        else "",
                    },
                    "stratum": stratum,
                    "provenance": f"clinician labels, work item {record['item_id']}",
                    "verification": f"clinician gold ({len(record.get('labels', []))} labels)",
                }
            )
    short = {s: (len(picked[s]), n) for s, n in wanted.items() if len(picked[s]) < n}
    if short:
        detail = ", ".join(f"{s}: {have} of {need}" for s, (have, need) in short.items())
        raise ApplicationError(f"Not enough clinician-labelled items for a safety set ({detail}).")
    return [row for stratum in wanted for row in picked[stratum]]
