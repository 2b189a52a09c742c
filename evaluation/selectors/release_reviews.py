"""Clinicians' safety labels of the messages one release served, per rollout arm: the review-based
safety metrics the release monitor compares (docs/releases.md, "Automatic rollback").

- **high-risk false-positive rate**: among user messages of the arm that clinicians labelled (an
  item counts once; its level is the highest any clinician gave) and did not label high, the
  share the served decision called high; **safety recall**: among those labelled high, the
  share called high (the definitions of ``evaluation.services.metrics``, per arm of a release);
- **live false-negative estimate**: among the arm's blinded weekly samples
  (``WorkItem.Reason.FN_SAMPLE``, sessions scored none or low on every turn) that clinicians
  labelled, the share labelled high, with its 95% Clopper-Pearson interval
  (``evaluation.estimates``), as ``evaluation.services.live_fn`` computes it for all traffic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from conversations.models import RiskLevel
from evaluation.estimates import clopper_pearson
from evaluation.models import SafetyLabel, WorkItem
from training_jobs.ml.labels import max_level


@dataclass(frozen=True)
class ArmReviews:
    arm: str
    reviewed_not_high: int = 0
    false_positives: int = 0
    reviewed_high: int = 0
    caught_high: int = 0
    fn_labelled: int = 0
    fn_misses: int = 0
    fn_lower: float | None = None
    fn_upper: float | None = None

    @property
    def fp_rate(self) -> float | None:
        return self.false_positives / self.reviewed_not_high if self.reviewed_not_high else None

    @property
    def recall(self) -> float | None:
        return self.caught_high / self.reviewed_high if self.reviewed_high else None

    @property
    def fn_rate(self) -> float | None:
        return self.fn_misses / self.fn_labelled if self.fn_labelled else None

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "fp_rate": self.fp_rate,
            "recall": self.recall,
            "fn_rate": self.fn_rate,
        }


def release_safety_reviews(*, release_id: int, arms: tuple[str, ...]) -> dict[str, ArmReviews]:
    """Each arm's review-based safety figures for the user messages ``release_id`` served."""
    labels: dict[int, list[str]] = defaultdict(list)
    meta: dict[int, tuple[str, str, str]] = {}
    rows = SafetyLabel.objects.filter(
        item__kind=WorkItem.Kind.SAFETY,
        item__text_role="user",
        item__message__release_id=release_id,
        item__message__rollout_arm__in=arms,
    ).values_list(
        "item_id",
        "risk_level",
        "item__reason",
        "item__message__rollout_arm",
        "item__message__risk_level",
    )
    for item_id, level, reason, arm, served in rows:
        labels[item_id].append(level)
        meta[item_id] = (reason, arm, served)
    counts: dict[str, dict[str, int]] = {arm: defaultdict(int) for arm in arms}
    for item_id, levels in labels.items():
        reason, arm, served = meta[item_id]
        gold_high = max_level(*levels) == RiskLevel.HIGH
        c = counts[arm]
        if reason == WorkItem.Reason.FN_SAMPLE:  # blinded: the served level was none or low
            c["fn_labelled"] += 1
            c["fn_misses"] += int(gold_high)
        elif gold_high:
            c["reviewed_high"] += 1
            c["caught_high"] += int(served == RiskLevel.HIGH)
        else:
            c["reviewed_not_high"] += 1
            c["false_positives"] += int(served == RiskLevel.HIGH)
    out = {}
    for arm, c in counts.items():
        estimate = clopper_pearson(c["fn_misses"], c["fn_labelled"])
        out[arm] = ArmReviews(arm=arm, fn_lower=estimate.lower, fn_upper=estimate.upper, **c)
    return out
