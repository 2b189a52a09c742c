"""Clinician preference pairs for the reward model, with their per-dimension scores."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from ari_review.privacy.masking import mask_messages, mask_text
from evaluation.models import CandidateScore, PreferenceCandidate, PreferenceJudgement, WorkItem
from evaluation.services.preferences import SCORE_DIMENSIONS, dimension_gaps, preference_pairs

# A pair's weight grows with the gap between the two replies' summed dimension scores (0-12).
WEIGHT_MIN, WEIGHT_MAX = 0.5, 2.0


def _weight(scores: dict[int, int], chosen: int, rejected: int) -> float:
    if chosen not in scores or rejected not in scores:
        return 1.0
    gap = scores[chosen] - scores[rejected]
    return max(WEIGHT_MIN, min(WEIGHT_MAX, 1.0 + gap / 6.0))


def preference_training_pairs() -> list[dict[str, Any]]:
    """One row per (chosen, rejected) pair of every clinician judgement (masked texts):
    ``{"group", "context", "chosen", "rejected", "weight", "dimensions"}``. The pick beats the
    others and safe replies beat unsafe ones (``preference_pairs``); a tie yields the pairs whose
    summed scores differ by at least 2 of 12. ``dimensions``: the chosen minus the rejected
    reply's score on each of empathy, presence, stabilization, safety; for a pair compared
    dimension by dimension, the comparison's margin (-2..2) from the chosen reply's side, and the
    weight grows with the summed margins as it does with the score gap."""
    items = (
        WorkItem.objects.filter(kind=WorkItem.Kind.PREFERENCE, reviews_done__gt=0)
        .prefetch_related(
            Prefetch("candidates", queryset=PreferenceCandidate.objects.order_by("position")),
            Prefetch(
                "judgements",
                queryset=PreferenceJudgement.objects.order_by("created_at").prefetch_related(
                    Prefetch("scores", queryset=CandidateScore.objects.all())
                ),
            ),
        )
        .order_by("id")
    )
    rows = []
    for item in items:
        candidates = {c.pk: c for c in item.candidates.all()}
        ids = list(candidates)
        context = mask_messages(item.context or [])
        for judgement in item.judgements.all():
            marks = {s.candidate_id: s for s in judgement.scores.all()}
            unsafe = {cid for cid, s in marks.items() if s.unsafe}
            compared = judgement.dimension_comparison or {}
            scores = {} if compared else marks
            totals = {
                cid: sum(getattr(s, d) or 0 for d in SCORE_DIMENSIONS) for cid, s in scores.items()
            }
            if compared and len(ids) == 2:
                # The summed margins (-8..8) play the part of the score gap.
                gaps = dimension_gaps(compared, ids[0], ids[1])
                totals = {ids[0]: sum(gaps.values()), ids[1]: 0}
            pairs = preference_pairs(judgement, ids, unsafe)
            if judgement.tie and not pairs:
                pairs = [
                    (a, b) for a in ids for b in ids if totals.get(a, 0) - totals.get(b, 0) >= 2
                ]
            for chosen, rejected in pairs:
                rows.append(
                    {
                        "group": f"item-{item.pk}",
                        "context": context,
                        "chosen": mask_text(candidates[chosen].text),
                        "rejected": mask_text(candidates[rejected].text),
                        "weight": _weight(totals, chosen, rejected),
                        "dimensions": dimension_gaps(compared, chosen, rejected)
                        if compared
                        else {
                            d: (getattr(scores[chosen], d) or 0)
                            - (getattr(scores[rejected], d) or 0)
                            for d in SCORE_DIMENSIONS
                        }
                        if chosen in scores and rejected in scores
                        else {},
                    }
                )
    return rows
