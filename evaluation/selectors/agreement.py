"""Agreement between clinicians per label set (stored, recomputed by beat), disagreements,
adjudications."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import combinations
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Count,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone

from ari_review.privacy.masking import pseudonym
from ari_review.privacy.stored_masks import masks_stored
from conversations.services.masking import message_texts_masked
from evaluation.agreement import cohen_kappa, cohen_kappa_per_class, krippendorff_alpha_nominal
from evaluation.label_sets import LABEL_SETS, LabelSet, normalise_value
from evaluation.models import (
    Adjudication,
    AgreementFigures,
    WorkItem,
)
from evaluation.selectors.masking import masked_many


def label_units(specs: list[LabelSet]) -> dict[str, list[tuple[list[int], list[str], str]]]:
    """For label sets of one label model: every double-labelled item's clinicians and values in
    labelling order, and the month ("YYYY-MM") of its second label. One query per model
    (PostgreSQL groups the labels itself)."""
    first = specs[0]
    qs = first.model.objects.filter(item__reviews_done__gte=2, item__kind=first.kind)
    if first.kind == WorkItem.Kind.SAFETY:
        qs = qs.filter(item__text_role="user")
    stamp = ExtractYear("created_at") * 100 + ExtractMonth("created_at")
    fields = [spec.field for spec in specs]
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        aggregates = {
            "clinicians": ArrayAgg("clinician_id", order_by="id"),
            "stamps": ArrayAgg(stamp, order_by="id"),
            **{f"raw{i}": ArrayAgg(field, order_by="id") for i, field in enumerate(fields)},
        }
        grouped: Iterable[Any] = (
            qs.values("item_id").annotate(**aggregates).order_by().values_list(*aggregates)
        )
    else:
        by_item: dict[int, list[list[Any]]] = defaultdict(
            lambda: [[] for _ in range(2 + len(fields))]
        )
        for item_id, clinician_id, value_stamp, *raws in (
            qs.annotate(stamp=stamp)
            .order_by("id")
            .values_list("item_id", "clinician_id", "stamp", *fields)
        ):
            entry = by_item[item_id]
            entry[0].append(clinician_id)
            entry[1].append(value_stamp)
            for i, raw in enumerate(raws):
                entry[2 + i].append(raw)
        grouped = by_item.values()
    units: dict[str, list[tuple[list[int], list[str], str]]] = {spec.key: [] for spec in specs}
    for clinicians, stamps, *raws in grouped:
        if len(clinicians) < 2:
            continue
        second = int(stamps[1])
        month = f"{second // 100:04d}-{second % 100:02d}"
        for spec, raw in zip(specs, raws, strict=True):
            units[spec.key].append((clinicians, [normalise_value(spec, r) for r in raw], month))
    return units


def _fmt(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _agreement(
    spec: LabelSet, units: list[tuple[list[int], list[str], str]], names: dict[int, str]
) -> dict[str, Any]:
    pairs, months, by_pair = [], defaultdict(list), defaultdict(list)
    month_units = defaultdict(list)
    more_than_two = 0
    for clinicians, values, month in units:
        month_units[month].append(values)
        if len(values) == 2:
            pair = (values[0], values[1])
            pairs.append(pair)
            months[month].append(pair)
            a, b = clinicians
            by_pair[(a, b) if a < b else (b, a)].append(pair if a < b else (pair[1], pair[0]))
        else:
            more_than_two += 1
            for (ca, va), (cb, vb) in combinations(sorted(zip(clinicians, values, strict=True)), 2):
                by_pair[(ca, cb)].append((va, vb))
    return {
        "label_set": spec.key,
        "title": spec.title,
        "items": len(units),
        "items_more_than_two_raters": more_than_two,
        "kappa": _fmt(cohen_kappa(pairs)),
        "alpha": _fmt(krippendorff_alpha_nominal([values for _, values, _ in units])),
        "per_class": [
            {"value": value or "(none)", "kappa": _fmt(k)}
            for value, k in cohen_kappa_per_class(pairs).items()
        ],
        "per_pair": sorted(
            (
                {
                    "clinicians": [names.get(a, str(a)), names.get(b, str(b))],
                    "items": len(p),
                    "kappa": _fmt(cohen_kappa(p)),
                }
                for (a, b), p in by_pair.items()
            ),
            key=lambda row: (-row["items"], row["clinicians"]),
        ),
        "over_time": [
            {
                "month": month,
                "items": len(month_units[month]),
                "kappa": _fmt(cohen_kappa(months.get(month, []))),
                "alpha": _fmt(krippendorff_alpha_nominal(month_units[month])),
            }
            for month in sorted(month_units)
        ],
    }


def agreement_compute_many(label_sets: list[str]) -> dict[str, dict[str, Any]]:
    """Kappa (first vs second label of items with two labels), per-class kappa, Krippendorff's
    alpha over all raters, per clinician pair and per month, for each label set."""
    by_model: dict[type, list[LabelSet]] = defaultdict(list)
    for key in label_sets:
        by_model[LABEL_SETS[key].model].append(LABEL_SETS[key])
    units: dict[str, list[tuple[list[int], list[str], str]]] = {}
    for specs in by_model.values():
        units.update(label_units(specs))
    clinician_ids = {c for rows in units.values() for clinicians, _, _ in rows for c in clinicians}
    names = dict(
        get_user_model().objects.filter(pk__in=clinician_ids).values_list("pk", "username")
    )
    return {key: _agreement(LABEL_SETS[key], units[key], names) for key in label_sets}


def agreement_compute(label_set: str) -> dict[str, Any]:
    return agreement_compute_many([label_set])[label_set]


# Agreement moves slowly: the figures are stored (``AgreementFigures``, one row a label set) and
# recomputed every 15 minutes by the ``agreement_refresh_task`` beat job, so pages read one row
# and never wait on the computation, whatever happens to the cache (a Redis restart or flush).
# Figures older than this (the job has stopped) or missing (a new installation or label set)
# are computed by the page that needs them, and stored.
AGREEMENT_MAX_AGE = timedelta(minutes=30)


def agreement_summaries(*, label_sets: list[str], recompute: bool = False) -> list[dict[str, Any]]:
    """Each label set's agreement figures with ``computed_at`` (ISO): the stored ones if
    recomputed within ``AGREEMENT_MAX_AGE``; the others (all with ``recompute``) are computed
    together and stored."""
    now = timezone.now()
    found: dict[str, dict[str, Any]] = {}
    if not recompute:
        for label_set, figures, computed_at in AgreementFigures.objects.filter(
            label_set__in=label_sets, computed_at__gte=now - AGREEMENT_MAX_AGE
        ).values_list("label_set", "figures", "computed_at"):
            found[label_set] = {**figures, "computed_at": computed_at.isoformat()}
    missing = [k for k in label_sets if k not in found]
    if missing:
        fresh = agreement_compute_many(missing)
        AgreementFigures.objects.bulk_create(
            [AgreementFigures(label_set=k, figures=fresh[k], computed_at=now) for k in missing],
            update_conflicts=True,
            unique_fields=["label_set"],
            update_fields=["figures", "computed_at"],
        )
        found.update({k: {**fresh[k], "computed_at": now.isoformat()} for k in missing})
    return [found[k] for k in label_sets]


def agreement_summary(*, label_set: str) -> dict[str, Any]:
    return agreement_summaries(label_sets=[label_set])[0]


def agreement_figures_refresh() -> list[str]:
    """Recompute and store every label set's agreement (the beat job calls this)."""
    agreement_summaries(label_sets=list(LABEL_SETS), recompute=True)
    return list(LABEL_SETS)


@dataclass
class Disagreement:
    item: WorkItem
    label_set: LabelSet
    labels: list[tuple[str, str]]  # (clinician username, value)
    preview: str


def disagreements_list(*, label_set: str | None = None, limit: int = 50) -> list[Disagreement]:
    """Items whose clinicians disagree and that no senior clinician has decided yet."""
    specs = [LABEL_SETS[label_set]] if label_set else list(LABEL_SETS.values())
    wanted: list[tuple[int, LabelSet]] = []
    for spec in specs:
        value: str | Coalesce = spec.field
        if spec.key == "preference.choice":
            value = Coalesce(spec.field, Value(-1))
        rows = (
            spec.model.objects.filter(item__reviews_done__gte=2, item__kind=spec.kind)
            .exclude(item__adjudications__label_set=spec.key)
            .values("item_id")
            .annotate(distinct_values=Count(value, distinct=True))
            .filter(distinct_values__gt=1)
            .order_by("item_id")
            .values_list("item_id", flat=True)[:limit]
        )
        wanted += [(item_id, spec) for item_id in rows]
    wanted = wanted[:limit]
    if not wanted:
        return []
    ids = {item_id for item_id, _ in wanted}
    items = WorkItem.objects.select_related("message", "session").in_bulk(ids)
    labels: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for spec in {s.key: s for _, s in wanted}.values():
        for item_id, username, raw in (
            spec.model.objects.filter(item_id__in=ids)
            .order_by("created_at")
            .values_list("item_id", "clinician__username", spec.field)
        ):
            labels[(item_id, spec.key)].append((username, normalise_value(spec, raw)))
    # Masked a page at once: a message's or imported item's stored mask, any other text through
    # the cache.
    said = [item for item in items.values() if item.message is not None]  # selected with it
    stored = message_texts_masked(messages=[item.message for item in said if item.message])
    previews = {item.pk: text for item, text in zip(said, stored, strict=True)}
    others = {}
    imported = [
        i for i in items.values() if i.message is None and i.kind != WorkItem.Kind.REVIEW and i.text
    ]
    previews.update(zip([i.pk for i in imported], masks_stored(imported), strict=True))
    for item in items.values():
        if item.message is not None or item.pk in previews:
            continue
        if item.kind == WorkItem.Kind.REVIEW:
            if item.session is None:
                raise ValueError(f"review item {item.pk} has no session")
            others[item.pk] = f"Session of {pseudonym(item.session.user_id)}"
        else:
            others[item.pk] = item.context[-1]["content"] if item.context else ""
    previews.update(zip(others, masked_many(list(others.values())), strict=True))
    return [
        Disagreement(items[item_id], spec, labels[(item_id, spec.key)], previews[item_id][:300])
        for item_id, spec in wanted
    ]


def adjudications_list(*, limit: int = 50) -> QuerySet[Adjudication]:
    return Adjudication.objects.select_related("decided_by", "item").order_by("-created_at")[:limit]
