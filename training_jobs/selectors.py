"""Reads of the model registry and of the training data kept in the database."""

from __future__ import annotations

import io
import json
from typing import Any

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


def database_label_rows(*, kind: str) -> list[dict[str, Any]]:
    """Clinician labels as training rows, through the evaluation app's label export.

    Only items with a gold value (adjudicated, or a strict majority) are used. Texts come out
    of the export already masked. Safety rows: ``risk_level``, ``category``, ``urgency`` of
    *user* messages only, each with the user's earlier turns of its session as ``history``
    (masked), so multi-turn rows train with their context; a safety label on one of Ari's
    replies says the reply was unsafe, which is the response side's business (filter rules,
    judge, preference data: :func:`response_safety_label_rows`), not the user-risk model's.
    Intent rows: ``intent`` (only labels of Ari's replies).
    """
    records = _gold_records(kind)
    rows = []
    if kind == "safety":
        user_records = [r for r in records if r.get("role") in ("user", "", None)]
        histories = _user_histories([r["message_id"] for r in user_records if r.get("message_id")])
        for record in user_records:
            gold = record["gold"]
            level = gold.get("risk_level")
            if not level:
                continue
            group = f"db-{record['item_id']}"
            rows.append(
                {
                    "id": group,
                    "text": record["text"],
                    "history": histories.get(record.get("message_id") or 0, []),  # no pk is 0
                    "risk_level": level,
                    "category": (gold.get("category") or "") if level != "none" else "",
                    "urgency": gold.get("urgency") or level,
                    "tags": ["database"],
                    "group": group,
                    "source": "clinician-labels",
                }
            )
        return rows
    for record in records:
        intent = record["gold"].get("intent")
        if not intent or record.get("role") not in ("assistant", "", None):
            continue
        group = f"db-{record['item_id']}"
        rows.append(
            {
                "id": group,
                "text": record["text"],
                "intent": intent,
                "group": group,
                "source": "clinician-labels",
            }
        )
    return rows


def response_safety_label_rows() -> list[dict[str, Any]]:
    """Safety labels clinicians put on Ari's own replies (masked): evidence for the response
    side (filter rules, the judge, preference data), kept out of the user-risk model."""
    return [
        {"text": r["text"], "risk_level": r["gold"]["risk_level"], "item_id": r["item_id"]}
        for r in _gold_records("safety")
        if r.get("role") == "assistant" and r["gold"].get("risk_level")
    ]


def _gold_records(kind: str) -> list[dict[str, Any]]:
    from evaluation.exports import labels_export_jsonl

    buffer = io.StringIO()
    labels_export_jsonl(buffer, kind=kind)
    records = []
    for line in buffer.getvalue().splitlines():
        record = json.loads(line)
        record["gold"] = record.get("gold") or {}
        record["text"] = (record.get("text") or "").strip()
        if record["text"]:
            records.append(record)
    return records


def _user_histories(message_ids: list[int]) -> dict[int, list[str]]:
    """For each user message, the masked texts of the user's earlier turns in its session
    (the last ``CONTEXT_TURNS``), in one query for all of them."""
    if not message_ids:
        return {}
    from ari_review.privacy.masking import mask_text
    from conversations.models import Message
    from training_jobs.ml.text import CONTEXT_TURNS

    targets = dict(Message.objects.filter(pk__in=message_ids).values_list("pk", "session_id"))
    turns: dict[int, list[tuple[int, str]]] = {}
    for pk, session_id, text in (
        Message.objects.filter(session_id__in=set(targets.values()), role=Message.Role.USER)
        .order_by("session_id", "id")
        .values_list("pk", "session_id", "text")
    ):
        turns.setdefault(session_id, []).append((pk, text))
    return {
        pk: [mask_text(t) for other, t in turns.get(session_id, []) if other < pk][-CONTEXT_TURNS:]
        for pk, session_id in targets.items()
    }


def model_versions_compare(
    *, candidate: ModelVersion, incumbent: ModelVersion | None
) -> list[dict[str, Any]]:
    """Two versions side by side, one row per figure: ``{"section", "label", "candidate",
    "incumbent", "changed"}``; sections: metrics (the frozen test split), thresholds, data."""

    def figures(version: ModelVersion | None) -> list[tuple[str, str, Any]]:
        if version is None:
            return []
        metrics = version.metrics or {}
        thresholds = version.thresholds or {}
        rows: list[tuple[str, str, Any]] = [
            ("metrics", k.replace("_", " "), v) for k, v in version.headline.items()
        ]
        for key in ("macro_f1", "edge_cases_high_rate", "none_high_rate", "test_rows"):
            if key in metrics and not isinstance(metrics[key], dict):
                rows.append(("metrics", key.replace("_", " "), metrics[key]))
        rows.append(("metrics", "gate", "passed" if version.gate_passed else "failed"))
        for key in ("high", "possible"):
            if key in thresholds:
                rows.append(("thresholds", key, thresholds[key]))
        rows += [
            ("data", "backend", version.backend),
            ("data", "training rows", version.train_rows),
            ("data", "rows from the database", version.database_rows),
            ("data", "training data sha256", (version.train_data_hash or "")[:12]),
            ("data", "frozen test data sha256", (version.test_data_hash or "")[:12]),
            ("data", "training seconds", round(version.training_seconds or 0, 1)),
            ("data", "trained", version.created_at.strftime("%Y-%m-%d %H:%M")),
        ]
        return rows

    new = {(s, label): v for s, label, v in figures(candidate)}
    old = {(s, label): v for s, label, v in figures(incumbent)}
    keys = list(new) + [k for k in old if k not in new]
    return [
        {
            "section": section,
            "label": label,
            "candidate": new.get((section, label)),
            "incumbent": old.get((section, label)),
            "changed": incumbent is not None
            and new.get((section, label)) != old.get((section, label)),
        }
        for section, label in keys
    ]
