"""Seed dialogues: a JSON list or OpenAI-style JSONL, as drafts (or variants of a dialogue)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction

from evaluation.models import SeedDialogue
from evaluation.services.imports.common import (
    ImportResult,
    file_check,
    file_text_read,
    ids_existing,
    ids_unique_check,
    import_audit,
    json_load,
    jsonl_load,
    messages_field,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class _DialogueRecord:
    where: str
    external_id: str
    fields: dict[str, Any]
    variants: list[_DialogueRecord] = field(default_factory=list)


def _dialogue_record(raw: Any, where: str, *, allow_variants: bool = True) -> _DialogueRecord:
    file_check(isinstance(raw, dict), where, "each dialogue must be a JSON object.")
    messages = messages_field(raw.get("messages"), where)
    state = raw.get("state", SeedDialogue.State.DRAFT)
    file_check(
        state in (SeedDialogue.State.DRAFT, SeedDialogue.State.IN_REVIEW),
        where,
        "imported dialogues start as draft or in_review (approval happens in the workspace).",
    )
    tags = raw.get("tags", [])
    file_check(
        isinstance(tags, list) and all(isinstance(t, str) for t in tags),
        where,
        "tags must be a list of strings.",
    )
    external_id = raw.get("id", "")
    file_check(isinstance(external_id, str | int), where, "id must be text or a number.")
    record = _DialogueRecord(
        where=where,
        external_id=str(external_id),
        fields={
            "title": str(raw.get("title", "") or "")[:200],
            "messages": messages,
            "session_type": str(raw.get("session_type", "") or ""),
            "flow_step": str(raw.get("flow_step", "") or "")[:30],
            "tags": tags,
            "state": state,
        },
    )
    variants = raw.get("variants", [])
    file_check(isinstance(variants, list), where, "variants must be a list of dialogues.")
    file_check(allow_variants or not variants, where, "a variant cannot have variants of its own.")
    record.variants = [
        _dialogue_record(v, f"{where}, variant {i}", allow_variants=False)
        for i, v in enumerate(variants, start=1)
    ]
    return record


@transaction.atomic
def dialogues_import(
    *, fileobj: IO[Any], filename: str = "", user: User | None = None, source: str = "import"
) -> ImportResult:
    """Seed dialogues: a JSON list of ``{"id"?, "title"?, "messages", "session_type"?,
    "flow_step"?, "tags"?, "state"?: draft|in_review, "variants"?: [...]}``, or JSONL with one
    ``{"messages": [...]}`` per line (the OpenAI fine-tuning format)."""
    text = file_text_read(fileobj)
    stripped = text.lstrip()
    jsonl = filename.endswith(".jsonl")
    if not jsonl and not stripped.startswith("["):
        try:
            json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            jsonl = True  # several JSON objects, one per line
    if jsonl:
        records = [
            _dialogue_record(raw, f"line {number}", allow_variants=False)
            for number, raw in jsonl_load(text)
        ]
    else:
        data = json_load(text, "dialogues")
        if isinstance(data, dict):
            data = [data]
        file_check(isinstance(data, list), "file", "expected a JSON list of dialogues.")
        records = [_dialogue_record(raw, f"record {i}") for i, raw in enumerate(data, start=1)]
    file_check(bool(records), "file", "no dialogues found.")
    all_records = [r for rec in records for r in (rec, *rec.variants)]
    ids_unique_check([(r.where, r.external_id) for r in all_records])
    existing = ids_existing(SeedDialogue, source, [r.external_id for r in all_records])
    result = ImportResult("dialogues")
    for record in records:
        if record.external_id and record.external_id in existing:
            result.skipped += 1 + len(record.variants)
            continue
        parent = SeedDialogue.objects.create(
            **record.fields, source=source, external_id=record.external_id, created_by=user
        )
        result.created += 1
        variants = [
            SeedDialogue(
                **v.fields,
                source=source,
                external_id=v.external_id,
                created_by=user,
                variant_of=parent,
            )
            for v in record.variants
            if not (v.external_id and v.external_id in existing)
        ]
        SeedDialogue.objects.bulk_create(variants)
        result.created += len(variants)
        result.skipped += len(record.variants) - len(variants)
    import_audit(user, "import.dialogues", filename, result)
    return result
