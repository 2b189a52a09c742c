"""KakoVerse conversation JSON: seeker turns and the supporter's styled replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction

from evaluation.models import PreferenceCandidate, WorkItem
from evaluation.services.imports.common import (
    ImportResult,
    file_check,
    file_text_read,
    ids_existing,
    ids_unique_check,
    import_audit,
    json_load,
    text_field,
)
from evaluation.services.queues.work import label_reviews_required

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def kakoverse_import(
    *, files: Sequence[tuple[str, IO[Any]]], user: User | None = None
) -> ImportResult:
    """KakoVerse conversation JSON (``{"persona_id", "turns": [{"turn_index",
    "seeker_message", "supporter_responses": [{"style", "care_level", "message"}]}]}``, one per
    file or a list): every supporter turn becomes a preference item whose candidates are its
    styles. The context is the conversation so far (earlier turns continue with the baseline
    reply)."""
    source = "kakoverse"
    parsed = []
    for name, fileobj in files:
        data = json_load(file_text_read(fileobj), name)
        conversations = data if isinstance(data, list) else [data]
        for c_index, raw in enumerate(conversations, start=1):
            where = f"{name}, record {c_index}"
            file_check(isinstance(raw, dict), where, "each conversation must be a JSON object.")
            persona = str(raw.get("persona_id") or f"{name}-{c_index}")
            turns = raw.get("turns")
            file_check(
                isinstance(turns, list) and bool(turns), where, "turns must be a non-empty list."
            )
            context: list[dict[str, Any]] = []
            for t, turn in enumerate(turns):
                turn_where = f"{where}, turns[{t}]"
                file_check(isinstance(turn, dict), turn_where, "each turn must be an object.")
                seeker = text_field(turn.get("seeker_message"), turn_where, "seeker_message")
                responses = turn.get("supporter_responses")
                file_check(
                    isinstance(responses, list) and 2 <= len(responses) <= 3,
                    turn_where,
                    "supporter_responses must list 2 or 3 replies.",
                )
                candidates: list[dict[str, Any]] = []
                for r, response in enumerate(responses):
                    r_where = f"{turn_where}.supporter_responses[{r}]"
                    file_check(isinstance(response, dict), r_where, "each reply must be an object.")
                    message = text_field(response.get("message"), r_where, "message")
                    care = response.get("care_level")
                    file_check(
                        care is None or isinstance(care, int | float),
                        r_where,
                        "care_level must be a number.",
                    )
                    candidates.append(
                        {
                            "text": message,
                            "meta": {"style": str(response.get("style", "")), "care_level": care},
                        }
                    )
                context = [*context, {"role": "user", "content": seeker}]
                turn_index = turn.get("turn_index", t + 1)
                parsed.append(
                    (turn_where, f"{persona}:turn{turn_index}", list(context), candidates)
                )
                baseline = next(
                    (c for c in candidates if c["meta"]["style"] == "baseline"), candidates[0]
                )
                context = [*context, {"role": "assistant", "content": baseline["text"]}]
    file_check(bool(parsed), "file", "no conversations found.")
    ids_unique_check([(where, ext) for where, ext, _, _ in parsed])
    existing = ids_existing(WorkItem, source, [p[1] for p in parsed], kind="preference")
    result = ImportResult("kakoverse")
    new_items = []
    for _, ext, context, candidates in parsed:
        if ext in existing:
            result.skipped += 1
            continue
        new_items.append(
            (
                WorkItem(
                    kind=WorkItem.Kind.PREFERENCE,
                    reason=WorkItem.Reason.IMPORTED,
                    priority=0.5,
                    required_reviews=label_reviews_required(key=f"{source}:{ext}"),
                    context=context,
                    source=source,
                    external_id=ext,
                ),
                candidates,
            )
        )
    WorkItem.objects.bulk_create([item for item, _ in new_items], batch_size=500)
    PreferenceCandidate.objects.bulk_create(
        [
            PreferenceCandidate(item=item, position=i, text=c["text"], meta=c["meta"])
            for item, candidates in new_items
            for i, c in enumerate(candidates)
        ],
        batch_size=1000,
    )
    result.created = len(new_items)
    result.details["preference_items"] = len(new_items)
    import_audit(user, "import.kakoverse", ", ".join(name for name, _ in files), result)
    return result
