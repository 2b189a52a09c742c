"""ESConv: conversations (JSON) as draft seed dialogues, and supporter replies as
intent-labelling items with the supporter's strategy as the suggestion."""

from __future__ import annotations

from typing import IO

from django.db import transaction

from evaluation.models import SeedDialogue, WorkItem
from evaluation.services.imports.common import (
    ImportFileError,
    ImportResult,
    file_check,
    file_text_read,
    ids_existing,
    import_audit,
    json_load,
    messages_field,
    text_field,
)
from evaluation.services.queues import imported_label_item_build

# ESConv supporter strategy -> Ari intent (a suggestion shown to intent labellers).
ESCONV_STRATEGY_TO_INTENT = {
    "Question": "probe_story",
    "Questions": "probe_story",
    "Restatement or Paraphrasing": "validate",
    "Reflection of feelings": "validate",
    "Affirmation and Reassurance": "validate",
    "Self-disclosure": "other",
    "Providing Suggestions": "suggest_experiment",
    "Information": "other",
    "Others": "other",
    "Other": "other",
}
ESCONV_SEEKER = {"seeker", "usr", "user", "speaker"}
ESCONV_SUPPORTER = {"supporter", "sys", "system", "listener"}


@transaction.atomic
def esconv_import(
    *, fileobj: IO, filename: str = "", user=None, intent_items: bool = False
) -> ImportResult:
    """ESConv JSON (a list of conversations with ``dialog: [{"speaker", "content",
    "annotation": {"strategy"}}]``): each conversation becomes a draft seed dialogue (seeker ->
    user, supporter -> assistant, consecutive turns of one speaker merged); with
    ``intent_items`` each supporter reply also becomes an intent-labelling item."""
    source = "esconv"
    data = json_load(file_text_read(fileobj), "ESConv")
    if isinstance(data, dict):
        data = [data]
    file_check(
        isinstance(data, list) and bool(data), "file", "expected a JSON list of conversations."
    )
    parsed = []
    for index, raw in enumerate(data, start=1):
        where = f"record {index}"
        file_check(isinstance(raw, dict), where, "each conversation must be a JSON object.")
        dialog = raw.get("dialog")
        file_check(
            isinstance(dialog, list) and bool(dialog), where, "dialog must be a non-empty list."
        )
        messages: list[dict] = []
        strategies: list[str | None] = []
        for t, turn in enumerate(dialog):
            turn_where = f"{where}, dialog[{t}]"
            file_check(isinstance(turn, dict), turn_where, "each turn must be an object.")
            speaker = str(turn.get("speaker", "")).lower()
            if speaker in ESCONV_SEEKER:
                role = "user"
            elif speaker in ESCONV_SUPPORTER:
                role = "assistant"
            else:
                raise ImportFileError(f"{turn_where}: speaker {speaker!r} is not seeker/supporter.")
            content = text_field(turn.get("content"), turn_where, "content")
            annotation = turn.get("annotation") or {}
            strategy = annotation.get("strategy") if isinstance(annotation, dict) else None
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"] += " " + content
                strategies[-1] = strategies[-1] or strategy
            else:
                messages.append({"role": role, "content": content})
                strategies.append(strategy)
        messages = messages_field(messages, where)
        meta = {
            "strategies": strategies,
            **{k: raw[k] for k in ("emotion_type", "problem_type", "experience_type") if k in raw},
        }
        parsed.append((f"esconv-{index}", messages, meta))
    existing = ids_existing(SeedDialogue, source, [p[0] for p in parsed])
    new = [
        SeedDialogue(
            title=f"ESConv {meta.get('problem_type', '')} #{ext.split('-')[1]}".strip()[:200],
            messages=messages,
            meta=meta,
            tags=[t for t in (meta.get("emotion_type"), meta.get("problem_type")) if t],
            source=source,
            external_id=ext,
            created_by=user,
        )
        for ext, messages, meta in parsed
        if ext not in existing
    ]
    SeedDialogue.objects.bulk_create(new, batch_size=200)
    result = ImportResult("esconv", created=len(new), skipped=len(parsed) - len(new))
    result.details["dialogues"] = len(new)
    if intent_items:
        items = []
        for ext, messages, meta in parsed:
            for i, message in enumerate(messages):
                if message["role"] != "assistant":
                    continue
                strategy = meta["strategies"][i]
                suggestion = {}
                if strategy in ESCONV_STRATEGY_TO_INTENT:
                    suggestion = {
                        "intent": ESCONV_STRATEGY_TO_INTENT[strategy],
                        "score": None,
                        "model_version": "esconv-strategy",
                        "strategy": strategy,
                    }
                items.append(
                    imported_label_item_build(
                        kind=WorkItem.Kind.INTENT,
                        text=message["content"],
                        source=source,
                        external_id=f"{ext}-m{i}",
                        context=messages[max(0, i - 4) : i],
                        suggestion=suggestion,
                        text_role="assistant",
                    )
                )
        seen = ids_existing(WorkItem, source, [i.external_id for i in items], kind="intent")
        items = [i for i in items if i.external_id not in seen]
        WorkItem.objects.bulk_create(items, batch_size=500)
        result.created += len(items)
        result.skipped += len(seen)
        result.details["intent_items"] = len(items)
    import_audit(user, "import.esconv", filename, result)
    return result
