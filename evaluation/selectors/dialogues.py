"""Seed dialogues: the approved ones the chat runtime's ``approved`` backend may use, and the
workspace's lists and counts."""

from __future__ import annotations

from django.db.models import (
    Count,
    Prefetch,
    Q,
    QuerySet,
)

from evaluation.models import (
    SeedDialogue,
)


def approved_dialogues_list() -> QuerySet[SeedDialogue]:
    """Approved seed dialogues, the only text the ``approved`` chat backend may use."""
    return SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED).order_by("id")


def dialogue_list(*, state: str | None = None, search: str = "") -> QuerySet[SeedDialogue]:
    """Originals (newest edit first) with their paraphrase variants prefetched."""
    qs = SeedDialogue.objects.filter(variant_of__isnull=True)
    if state:
        qs = qs.filter(Q(state=state) | Q(variants__state=state)).distinct()
    if search:
        qs = qs.filter(title__icontains=search)
    return (
        qs.select_related("reviewer")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=SeedDialogue.objects.select_related("reviewer").order_by("id"),
            )
        )
        .order_by("-updated_at", "-id")
    )


def dialogue_state_counts() -> dict[str, int]:
    agg = SeedDialogue.objects.aggregate(
        **{s: Count("id", filter=Q(state=s)) for s in SeedDialogue.State.values}
    )
    return agg


def dialogue_get(*, dialogue_id: int) -> SeedDialogue | None:
    return (
        SeedDialogue.objects.select_related("reviewer", "created_by", "variant_of")
        .prefetch_related(Prefetch("variants", queryset=SeedDialogue.objects.order_by("id")))
        .filter(pk=dialogue_id)
        .first()
    )
