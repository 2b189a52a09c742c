"""Reads of the model registry and of the training data kept in the database."""

from __future__ import annotations

import io
import json

from django.db.models import QuerySet

from training_jobs.models import ModelVersion, TrainingJob


def model_version_active_get(*, kind: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_version_get(*, version_id: int) -> ModelVersion | None:
    return (
        ModelVersion.objects.select_related("activated_by", "created_by")
        .filter(pk=version_id)
        .first()
    )


def model_version_list(*, kind: str | None = None) -> QuerySet[ModelVersion]:
    qs = ModelVersion.objects.select_related("activated_by", "created_by").defer("metrics")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def training_job_get(*, job_id: int) -> TrainingJob | None:
    return (
        TrainingJob.objects.select_related("model_version", "created_by").filter(pk=job_id).first()
    )


def training_job_list(*, kind: str | None = None, limit: int = 20) -> list[TrainingJob]:
    qs = TrainingJob.objects.select_related("model_version", "created_by")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("-created_at", "-id")[:limit])


def database_label_rows(*, kind: str) -> list[dict]:
    """Clinician labels as training rows, through the evaluation app's label export.

    Only items with a gold value (adjudicated, or a strict majority) are used. Texts come out
    of the export already masked. Safety rows: ``risk_level``, ``category``, ``urgency``;
    intent rows: ``intent`` (only labels of Ari's replies).
    """
    from evaluation.exports import labels_export_jsonl

    buffer = io.StringIO()
    labels_export_jsonl(buffer, kind=kind)
    rows = []
    for line in buffer.getvalue().splitlines():
        record = json.loads(line)
        gold = record.get("gold") or {}
        text = (record.get("text") or "").strip()
        if not text:
            continue
        group = f"db-{record['item_id']}"
        if kind == "safety":
            level = gold.get("risk_level")
            if not level:
                continue
            rows.append(
                {
                    "id": group,
                    "text": text,
                    "history": [],
                    "risk_level": level,
                    "category": (gold.get("category") or "") if level != "none" else "",
                    "urgency": gold.get("urgency") or level,
                    "lang": "",
                    "tags": ["database"],
                    "group": group,
                }
            )
        else:
            intent = gold.get("intent")
            if not intent or record.get("role") not in ("assistant", "", None):
                continue
            rows.append({"id": group, "text": text, "intent": intent, "group": group})
    return rows
