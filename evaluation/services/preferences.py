"""Preference comparisons: two or three candidate replies, shown blind in random order; the
clinician picks the best (or a tie) and scores each 0-3. An unsafe candidate can never be the
preferred one, and it also gets a safety label."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from conversations.models import RiskLevel
from evaluation.models import (
    CandidateScore,
    PreferenceCandidate,
    PreferenceJudgement,
    SafetyLabel,
    Urgency,
    WorkItem,
)
from evaluation.services.queues.work import label_reviews_required, work_item_record_review

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SCORE_DIMENSIONS = ("empathy", "presence", "stabilization", "safety")
COMPARISON_MARGINS = (0, 1, 2)  # about the same, somewhat better, clearly better


@dataclass(frozen=True)
class CandidateScoreInput:
    candidate_id: int
    empathy: int | None = None  # None only with a pair's dimension comparison
    presence: int | None = None
    stabilization: int | None = None
    safety: int | None = None
    unsafe: bool = False


@dataclass(frozen=True)
class DimensionComparisonInput:
    """One dimension of a pair: which reply is better (None: about the same) and by how much
    (0 about the same, 1 somewhat, 2 clearly)."""

    dimension: str
    better_id: int | None
    margin: int


def _comparison_checked(
    comparison: list[DimensionComparisonInput], candidates: set[int]
) -> dict[str, dict[str, int | None]]:
    if len(candidates) != 2:
        raise ApplicationError("Only a pair of replies can be compared dimension by dimension.")
    by_dimension: dict[str, dict[str, int | None]] = {}
    for c in comparison:
        if c.dimension not in SCORE_DIMENSIONS:
            raise ApplicationError(f"Unknown dimension {c.dimension!r}.")
        if c.dimension in by_dimension:
            raise ApplicationError(f"The {c.dimension} comparison is given twice.")
        if c.margin not in COMPARISON_MARGINS:
            raise ApplicationError(f"The {c.dimension} margin must be 0, 1 or 2.")
        if (c.better_id is None) != (c.margin == 0):
            raise ApplicationError(
                f"The {c.dimension} comparison needs a better reply exactly when its margin "
                "is above 0."
            )
        if c.better_id is not None and c.better_id not in candidates:
            raise ApplicationError(f"Candidate {c.better_id} is not part of this comparison.")
        by_dimension[c.dimension] = {"better": c.better_id, "margin": c.margin}
    missing = [d for d in SCORE_DIMENSIONS if d not in by_dimension]
    if missing:
        raise ApplicationError(f"Compare the pair on every dimension ({missing[0]} is missing).")
    return {d: by_dimension[d] for d in SCORE_DIMENSIONS}


def dimension_gaps(comparison: dict[str, Any], chosen: int, rejected: int) -> dict[str, int]:
    """A pair comparison as ``chosen`` minus ``rejected`` per dimension (-2..2)."""
    gaps = {}
    for d in SCORE_DIMENSIONS:
        entry = comparison.get(d) or {}
        margin = int(entry.get("margin") or 0)
        better = entry.get("better")
        gaps[d] = margin if better == chosen else -margin if better == rejected else 0
    return gaps


def candidate_display_order(
    *, item: WorkItem, clinician: User, candidate_ids: list[int]
) -> list[int]:
    """A random order per item and clinician that stays the same on reload."""
    order = sorted(candidate_ids)
    random.Random(f"{item.pk}:{clinician.pk}").shuffle(order)
    return order


@transaction.atomic
def preference_item_create(
    *,
    context: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
    source: str,
    external_id: str = "",
) -> WorkItem:
    """A comparison of 2-3 candidate replies (``{"text", "meta"}``) to the same context."""
    if not 2 <= len(candidates) <= 3:
        raise ApplicationError("A comparison needs two or three candidate replies.")
    if any(not (c.get("text") or "").strip() for c in candidates):
        raise ApplicationError("Every candidate reply needs text.")
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.PREFERENCE,
        reason=WorkItem.Reason.IMPORTED,
        priority=0.5,
        required_reviews=label_reviews_required(key=f"{source}:{external_id}"),
        context=context,
        source=source,
        external_id=external_id,
    )
    PreferenceCandidate.objects.bulk_create(
        [
            PreferenceCandidate(
                item=item, position=i, text=c["text"].strip(), meta=c.get("meta") or {}
            )
            for i, c in enumerate(candidates)
        ]
    )
    return item


def _unsafe_candidate_label(*, candidate: PreferenceCandidate, clinician: User) -> SafetyLabel:
    """The safety label an "unsafe" mark creates for a candidate reply."""
    item, _ = WorkItem.objects.select_for_update().get_or_create(
        kind=WorkItem.Kind.SAFETY,
        source="preference",
        external_id=f"candidate-{candidate.pk}",
        defaults={
            "reason": WorkItem.Reason.UNSAFE_CANDIDATE,
            "priority": 0.0,
            "required_reviews": 0,
            "status": WorkItem.Status.DONE,
            "text": candidate.text,
            "text_role": "assistant",
            "context": candidate.item.context,
        },
    )
    label, created = SafetyLabel.objects.get_or_create(
        item=item,
        clinician=clinician,
        defaults={
            "risk_level": RiskLevel.HIGH,
            "category": "",
            "urgency": Urgency.NONE,
            "suggestion_shown": False,
        },
    )
    if created:
        item.reviews_done += 1
        item.required_reviews = max(item.required_reviews, item.reviews_done)
        item.save(update_fields=["reviews_done", "required_reviews"])
        audit_event_record(
            actor=clinician,
            action="safety_label.create",
            obj=label,
            after={"item_id": item.pk, "risk_level": RiskLevel.HIGH, "unsafe_reply": True},
        )
    return label


@transaction.atomic
def preference_judgement_create(
    *,
    item: WorkItem,
    clinician: User,
    chosen_id: int | None,
    tie: bool,
    scores: list[CandidateScoreInput],
    note: str = "",
    comparison: list[DimensionComparisonInput] | None = None,
) -> PreferenceJudgement:
    """``scores``: each candidate 0-3 on every dimension; or, for a pair, ``comparison`` (one
    answer per dimension) with ``scores`` carrying only the unsafe marks (their values are
    then ignored and stored as null)."""
    if item.kind != WorkItem.Kind.PREFERENCE:
        raise ApplicationError("This item is not a preference comparison.")
    candidates = {c.pk: c for c in item.candidates.all()}
    if tie == (chosen_id is not None):
        raise ApplicationError("Pick the best reply, or mark a tie (not both).")
    if chosen_id is not None and chosen_id not in candidates:
        raise ApplicationError(f"Candidate {chosen_id} is not part of this comparison.")
    by_candidate = {}
    for score in scores:
        if score.candidate_id not in candidates:
            raise ApplicationError(
                f"Candidate {score.candidate_id} is not part of this comparison."
            )
        if score.candidate_id in by_candidate:
            raise ApplicationError(f"Candidate {score.candidate_id} is scored twice.")
        for dim in SCORE_DIMENSIONS if comparison is None else ():
            value = getattr(score, dim)
            if not isinstance(value, int) or not 0 <= value <= 3:
                raise ApplicationError(f"The {dim} score must be a whole number from 0 to 3.")
        by_candidate[score.candidate_id] = score
    compared = _comparison_checked(comparison, set(candidates)) if comparison is not None else {}
    missing = sorted(set(candidates) - set(by_candidate))
    if missing:
        raise ApplicationError(f"Score every candidate (candidate {missing[0]} has no scores).")
    plain = comparison is None
    unsafe = {cid for cid, s in by_candidate.items() if s.unsafe}
    # The unsafe override: an unsafe pick is void (the safe candidates then tie).
    effective = chosen_id if chosen_id is not None and chosen_id not in unsafe else None
    item = work_item_record_review(item=item, clinician=clinician, kind=WorkItem.Kind.PREFERENCE)
    judgement = PreferenceJudgement.objects.create(
        item=item,
        clinician=clinician,
        chosen_id=chosen_id,
        tie=tie,
        effective_chosen_id=effective,
        shown_order=candidate_display_order(
            item=item, clinician=clinician, candidate_ids=list(candidates)
        ),
        note=note.strip(),
        dimension_comparison=compared,
    )
    CandidateScore.objects.bulk_create(
        [
            CandidateScore(
                judgement=judgement,
                candidate_id=cid,
                empathy=s.empathy if plain else None,
                presence=s.presence if plain else None,
                stabilization=s.stabilization if plain else None,
                safety=s.safety if plain else None,
                unsafe=s.unsafe,
            )
            for cid, s in sorted(by_candidate.items())
        ]
    )
    for cid in sorted(unsafe):
        _unsafe_candidate_label(candidate=candidates[cid], clinician=clinician)
    audit_event_record(
        actor=clinician,
        action="preference_judgement.create",
        obj=judgement,
        after={
            "item_id": item.pk,
            "chosen_id": chosen_id,
            "tie": tie,
            "effective_chosen_id": effective,
            "unsafe": sorted(unsafe),
            "scores": {
                str(cid): {dim: getattr(s, dim) for dim in SCORE_DIMENSIONS}
                for cid, s in sorted(by_candidate.items())
            }
            if plain
            else {},
            "dimension_comparison": compared,
            "note": judgement.note,
        },
    )
    logger.info("preference judged item_id=%s judgement_id=%s", item.pk, judgement.pk)
    return judgement


def preference_pairs(
    judgement: PreferenceJudgement, candidate_ids: list[int], unsafe: set[int]
) -> list[tuple[int, int]]:
    """(chosen_id, rejected_id) pairs one judgement yields: the pick over every other
    candidate, and every safe candidate over every unsafe one."""
    pairs: list[tuple[int, int]] = []
    if judgement.effective_chosen_id is not None:
        pairs += [
            (judgement.effective_chosen_id, c)
            for c in candidate_ids
            if c != judgement.effective_chosen_id
        ]
    safe = [c for c in candidate_ids if c not in unsafe]
    for s in safe:
        for u in sorted(unsafe):
            if (s, u) not in pairs:
                pairs.append((s, u))
    return pairs
