"""ESConv, in both shapes it is published in.

- Conversations (JSON: a list of ``{"dialog": [{"speaker", "content", "annotation":
  {"strategy"}}]}``, as ``esconv_failed.json``): each becomes a draft seed dialogue (seeker ->
  user, supporter -> assistant, consecutive turns of one speaker merged); with ``intent_items``
  each supporter reply also becomes an intent-labelling item.
- Supporter turns (JSONL, one ``{"context": [{"speaker", "text"}], "reply", "strategy"}`` a
  line, as the strategy file ``esconv_strategy_dev.jsonl``): each reply becomes an
  intent-labelling item. The lines are windows of conversations, not whole ones, so they make
  no seed dialogue.

Either way an item's suggestion is the intent the supporter's strategy maps to.
"""

from __future__ import annotations

import hashlib
import json
from typing import IO, TYPE_CHECKING, Any

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
    jsonl_load,
    messages_field,
    text_field,
)
from evaluation.services.masking import imported_items_masks_queue
from evaluation.services.queues.labelling import imported_label_item_build
from training_jobs.ml.external import ESCONV_TO_INTENT

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# ESConv supporter strategy -> Ari intent: the mapping intent training uses, shown to intent
# labellers as a suggestion.
ESCONV_STRATEGY_TO_INTENT = ESCONV_TO_INTENT
ESCONV_SEEKER = {"seeker", "usr", "user", "speaker"}
ESCONV_SUPPORTER = {"supporter", "sys", "system", "listener"}
SOURCE = "esconv"
CONTEXT_TURNS = 4  # earlier turns shown with a reply to label


@transaction.atomic
def esconv_import(
    *, fileobj: IO[Any], filename: str = "", user: User | None = None, intent_items: bool = False
) -> ImportResult:
    """Conversations (JSON) or supporter turns with their strategy (JSONL); see the module."""
    text = file_text_read(fileobj)
    if _is_turn_lines(text, filename):
        result = _turns_import(text)
    else:
        result = _conversations_import(json_load(text, "ESConv"), user, intent_items)
    import_audit(user, "import.esconv", filename, result)
    return result


def _is_turn_lines(text: str, filename: str) -> bool:
    """JSONL of supporter turns: by its name, or a first line that is a whole turn."""
    if filename.lower().endswith(".jsonl"):
        return True
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        row = json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(row, dict) and "reply" in row


def _role(turn: dict[str, Any], where: str) -> str:
    speaker = str(turn.get("speaker", "")).lower()
    if speaker in ESCONV_SEEKER:
        return "user"
    if speaker in ESCONV_SUPPORTER:
        return "assistant"
    raise ImportFileError(f"{where}: speaker {speaker!r} is not seeker/supporter.")


def _intent_item(
    *, text: str, external_id: str, context: list[dict[str, Any]], strategy: Any
) -> WorkItem:
    suggestion = {}
    if strategy in ESCONV_STRATEGY_TO_INTENT:
        suggestion = {
            "intent": ESCONV_STRATEGY_TO_INTENT[strategy],
            "score": None,
            "model_version": "esconv-strategy",
            "strategy": strategy,
        }
    return imported_label_item_build(
        kind=WorkItem.Kind.INTENT,
        text=text,
        source=SOURCE,
        external_id=external_id,
        context=context[-CONTEXT_TURNS:],
        suggestion=suggestion,
        text_role="assistant",
    )


def _intent_items_create(items: list[WorkItem]) -> tuple[int, int]:
    """Bulk-create the items not imported before; returns (created, skipped). A reply whose
    text is queued already (from this file, another file or production) is the same item."""
    seen = ids_existing(WorkItem, SOURCE, [i.external_id for i in items], kind="intent")
    keys_taken = set(
        WorkItem.objects.filter(
            kind=WorkItem.Kind.INTENT, content_key__in={i.content_key for i in items}
        ).values_list("content_key", flat=True)
    )
    new = []
    for item in items:
        if item.external_id in seen or item.content_key in keys_taken:
            continue
        keys_taken.add(item.content_key)
        new.append(item)
    WorkItem.objects.bulk_create(new, batch_size=500)
    imported_items_masks_queue(new)
    return len(new), len(items) - len(new)


def _turns_import(text: str) -> ImportResult:
    rows = jsonl_load(text)
    file_check(bool(rows), "file", "expected one supporter turn per line.")
    items: dict[str, WorkItem] = {}
    for number, row in rows:
        where = f"line {number}"
        reply = text_field(row.get("reply"), where, "reply")
        raw_context = row.get("context", [])
        file_check(isinstance(raw_context, list), where, "context must be a list of turns.")
        context = []
        for t, turn in enumerate(raw_context):
            turn_where = f"{where}, context[{t}]"
            file_check(isinstance(turn, dict), turn_where, "each turn must be an object.")
            content = turn.get("text", turn.get("content"))
            context.append(
                {
                    "role": _role(turn, turn_where),
                    "content": text_field(content, turn_where, "text"),
                }
            )
        strategy = row.get("strategy")
        file_check(strategy is None or isinstance(strategy, str), where, "strategy must be text.")
        # The same reply after the same context is the same item, whichever file it came from.
        key = json.dumps([context, reply], ensure_ascii=False).encode()
        external_id = f"esconv-turn-{hashlib.sha256(key).hexdigest()[:24]}"
        items.setdefault(
            external_id,
            _intent_item(text=reply, external_id=external_id, context=context, strategy=strategy),
        )
    created, skipped = _intent_items_create(list(items.values()))
    result = ImportResult("esconv", created=created, skipped=skipped)
    result.details["intent_items"] = created
    return result


def _conversations_import(data: Any, user: User | None, intent_items: bool) -> ImportResult:
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
        messages: list[dict[str, Any]] = []
        strategies: list[str | None] = []
        for t, turn in enumerate(dialog):
            turn_where = f"{where}, dialog[{t}]"
            file_check(isinstance(turn, dict), turn_where, "each turn must be an object.")
            role = _role(turn, turn_where)
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
    existing = ids_existing(SeedDialogue, SOURCE, [p[0] for p in parsed])
    new = [
        SeedDialogue(
            title=f"ESConv {meta.get('problem_type', '')} #{ext.split('-')[1]}".strip()[:200],
            messages=messages,
            meta=meta,
            tags=[t for t in (meta.get("emotion_type"), meta.get("problem_type")) if t],
            source=SOURCE,
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
        items = [
            _intent_item(
                text=message["content"],
                external_id=f"{ext}-m{i}",
                context=messages[:i],
                strategy=meta["strategies"][i],
            )
            for ext, messages, meta in parsed
            for i, message in enumerate(messages)
            if message["role"] == "assistant"
        ]
        created, skipped = _intent_items_create(items)
        result.created += created
        result.skipped += skipped
        result.details["intent_items"] = created
    return result
