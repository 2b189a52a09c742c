"""Exports (management commands and admin actions). Every text is masked and clinicians appear
only as pseudonyms.

- Approved seed dialogues as OpenAI fine-tuning JSONL: ``{"messages": [...]}`` per line; or
  the seed JSON format (with variants) that ``import_dialogues`` reads back.
- Labels (safety or intent) as JSONL (one item per line with every label and the gold label)
  or CSV (one label per row). A CSV cell that a spreadsheet would read as a formula (it starts
  with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is written with a leading ``'``, so
  opening the file can never run what someone typed into a note or a message.
- Preference pairs as JSONL in the conversational format used for reward models and DPO:
  ``{"prompt": [messages], "chosen": [{"role": "assistant", ...}], "rejected": [...]}``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from typing import Any, TextIO

from django.db.models import Prefetch

from ari_review.privacy.masking import mask_messages, mask_text, pseudonym
from evaluation.label_sets import PREFERENCE_TIE
from evaluation.models import (
    Adjudication,
    CandidateScore,
    IntentLabel,
    PreferenceCandidate,
    PreferenceJudgement,
    SafetyLabel,
    SeedDialogue,
    WorkItem,
)
from evaluation.services.preferences import preference_pairs

LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    WorkItem.Kind.SAFETY: ("risk_level", "category", "urgency"),
    WorkItem.Kind.INTENT: ("intent",),
}


def _line(out: TextIO, obj: dict) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")


# --- Dialogues ---------------------------------------------------------------------------------


def dialogues_export_openai(out: TextIO, queryset=None) -> int:
    """Approved dialogues only (whatever the queryset holds), one ``{"messages"}`` per line."""
    qs = (queryset if queryset is not None else SeedDialogue.objects.all()).filter(
        state=SeedDialogue.State.APPROVED
    )
    count = 0
    for dialogue in qs.order_by("id").iterator(chunk_size=500):
        _line(out, {"messages": mask_messages(dialogue.messages)})
        count += 1
    return count


def _seed_record(dialogue: SeedDialogue) -> dict:
    record = {
        "id": dialogue.external_id or f"ari-{dialogue.pk}",
        "title": dialogue.title,
        "messages": mask_messages(dialogue.messages),
        "session_type": dialogue.session_type,
        "flow_step": dialogue.flow_step,
        "tags": dialogue.tags,
    }
    return record


def dialogues_export_seed(out: TextIO, queryset=None, *, state: str | None = None) -> int:
    """The seed JSON format (originals with their variants nested)."""
    qs = queryset if queryset is not None else SeedDialogue.objects.all()
    if state:
        qs = qs.filter(state=state)
    qs = qs.filter(variant_of__isnull=True).prefetch_related(
        Prefetch("variants", queryset=SeedDialogue.objects.order_by("id"))
    )
    records = []
    for dialogue in qs.order_by("id"):
        record = _seed_record(dialogue)
        variants = [v for v in dialogue.variants.all() if not state or v.state == state]
        if variants:
            record["variants"] = [_seed_record(v) for v in variants]
        records.append(record)
    json.dump(records, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return len(records) + sum(len(r.get("variants", [])) for r in records)


# --- Labels ------------------------------------------------------------------------------------


def _gold(values: list[str], adjudicated: str | None) -> str | None:
    """The adjudicated value, else the strict-majority value, else None."""
    if adjudicated is not None:
        return adjudicated
    if not values:
        return None
    value, count = Counter(values).most_common(1)[0]
    return value if count * 2 > len(values) else None


def _label_items(kind: str, queryset=None):
    model = SafetyLabel if kind == WorkItem.Kind.SAFETY else IntentLabel
    related = "safety_labels" if kind == WorkItem.Kind.SAFETY else "intent_labels"
    items = queryset if queryset is not None else WorkItem.objects.all()
    items = (
        items.filter(kind=kind, reviews_done__gt=0)
        .select_related("message")
        .prefetch_related(
            Prefetch(
                related, queryset=model.objects.order_by("created_at", "id"), to_attr="labels"
            ),
            Prefetch("adjudications", to_attr="decisions"),
        )
        .order_by("id")
    )
    return items


def _item_text(item: WorkItem) -> tuple[str, str]:
    if item.message is not None:  # selected with the item
        return mask_text(item.message.text), item.message.role
    return mask_text(item.text), item.text_role


def _item_gold(kind: str, item: WorkItem) -> dict:
    # Prefetch(to_attr=...) attributes are not known to django-stubs.
    decided = {a.label_set: a.value for a in item.decisions}  # type: ignore[attr-defined]
    gold = {}
    for name in LABEL_FIELDS[kind]:
        key = f"{kind}.{name}"
        labels = item.labels  # type: ignore[attr-defined]  # Prefetch(to_attr=...), as above
        gold[name] = _gold([getattr(label, name) for label in labels], decided.get(key))
    return gold


def labels_export_jsonl(out: TextIO, *, kind: str, queryset=None) -> int:
    count = 0
    for item in _label_items(kind, queryset).iterator(chunk_size=500):
        text, role = _item_text(item)
        _line(
            out,
            {
                "item_id": item.pk,
                "kind": kind,
                "source": item.source,
                "external_id": item.external_id,
                "message_id": item.message_id,
                "role": role,
                "text": text,
                "labels": [
                    {
                        "clinician": pseudonym(label.clinician_id),
                        **{name: getattr(label, name) for name in LABEL_FIELDS[kind]},
                        "suggestion_shown": label.suggestion_shown,
                        "created_at": label.created_at.isoformat(),
                    }
                    for label in item.labels
                ],
                "gold": _item_gold(kind, item),
            },
        )
        count += 1
    return count


# What spreadsheets (Excel, LibreOffice, Google Sheets) take as the start of a formula (OWASP).
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell_safe(value):
    """``value`` as a CSV cell no spreadsheet runs: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


class _SafeCsvWriter:
    def __init__(self, out: TextIO):
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow([csv_cell_safe(value) for value in row])


def labels_export_csv(out: TextIO, *, kind: str, queryset=None) -> int:
    fields = LABEL_FIELDS[kind]
    writer = _SafeCsvWriter(out)
    writer.writerow(
        [
            "item_id",
            "kind",
            "source",
            "external_id",
            "message_id",
            "role",
            "text",
            "clinician",
            *fields,
            "suggestion_shown",
            "created_at",
            *(f"gold_{f}" for f in fields),
        ]
    )
    count = 0
    for item in _label_items(kind, queryset).iterator(chunk_size=500):
        text, role = _item_text(item)
        gold = _item_gold(kind, item)
        for label in item.labels:
            writer.writerow(
                [
                    item.pk,
                    kind,
                    item.source,
                    item.external_id,
                    item.message_id or "",
                    role,
                    text,
                    pseudonym(label.clinician_id),
                    *(getattr(label, f) for f in fields),
                    label.suggestion_shown,
                    label.created_at.isoformat(),
                    *("" if gold[f] is None else gold[f] for f in fields),
                ]
            )
            count += 1
    return count


# --- Preferences ---------------------------------------------------------------------------------


def preferences_export(out: TextIO, queryset=None, *, with_meta: bool = False) -> int:
    """One line per (chosen, rejected) pair. An adjudicated item yields the senior clinician's
    pairs only; otherwise each judgement yields its own. Unsafe candidates always lose."""
    items = queryset if queryset is not None else WorkItem.objects.all()
    items = (
        items.filter(kind=WorkItem.Kind.PREFERENCE, reviews_done__gt=0)
        .prefetch_related(
            Prefetch("candidates", queryset=PreferenceCandidate.objects.order_by("position")),
            Prefetch(
                "judgements",
                queryset=PreferenceJudgement.objects.order_by("created_at").prefetch_related(
                    Prefetch("scores", queryset=CandidateScore.objects.all())
                ),
            ),
            Prefetch(
                "adjudications",
                queryset=Adjudication.objects.filter(label_set="preference.choice"),
                to_attr="decisions",
            ),
        )
        .order_by("id")
    )
    count = 0
    for item in items:
        candidates = {c.pk: c for c in item.candidates.all()}
        ids = list(candidates)
        prompt = mask_messages(item.context or [])
        judgements = list(item.judgements.all())
        if item.decisions:
            decided = item.decisions[0].value
            unsafe = {s.candidate_id for j in judgements for s in j.scores.all() if s.unsafe}
            chosen = None
            if decided != PREFERENCE_TIE:
                by_position = {c.position: c.pk for c in candidates.values()}
                chosen = by_position.get(int(decided) - 1)
                if chosen in unsafe:
                    chosen = None
            stand_in = PreferenceJudgement(effective_chosen_id=chosen)
            batches = [(None, preference_pairs(stand_in, ids, unsafe))]
        else:
            batches = []
            for judgement in judgements:
                unsafe = {s.candidate_id for s in judgement.scores.all() if s.unsafe}
                batches.append((judgement, preference_pairs(judgement, ids, unsafe)))
        for judgement, pairs in batches:
            for chosen_id, rejected_id in pairs:
                row: dict[str, Any] = {
                    "prompt": prompt,
                    "chosen": [
                        {"role": "assistant", "content": mask_text(candidates[chosen_id].text)}
                    ],
                    "rejected": [
                        {"role": "assistant", "content": mask_text(candidates[rejected_id].text)}
                    ],
                }
                if with_meta:
                    row["meta"] = {
                        "item_id": item.pk,
                        "source": item.source,
                        "external_id": item.external_id,
                        "judgement_id": judgement.pk if judgement else None,
                        "clinician": pseudonym(judgement.clinician_id) if judgement else None,
                        "adjudicated": judgement is None,
                        "chosen_meta": candidates[chosen_id].meta,
                        "rejected_meta": candidates[rejected_id].meta,
                    }
                _line(out, row)
                count += 1
    return count
