"""counsel-chat (CSV or JSONL): questions as safety-labelling items, answers optionally as
draft seed dialogues."""

from __future__ import annotations

import csv
import io
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
    jsonl_load,
    text_field,
)
from evaluation.services.masking import imported_items_masks_queue
from evaluation.services.queues.labelling import imported_label_item_build

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_COUNSEL_COLUMNS = {
    "question_id": ("questionID", "question_id", "questionId"),
    "title": ("questionTitle", "title", "question_title"),
    "question": ("questionText", "question", "question_text"),
    "topic": ("topic", "topics"),
    "answer": ("answerText", "answer", "answer_text"),
}


def _counsel_rows(text: str, filename: str) -> list[tuple[str, dict[str, Any]]]:
    if filename.endswith(".jsonl"):
        return [(f"line {n}", row) for n, row in jsonl_load(text)]
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for name, aliases in _COUNSEL_COLUMNS.items():
        if name in ("title", "topic"):
            continue
        file_check(
            any(a in header for a in aliases),
            "line 1",
            f"missing column {aliases[0]!r} (found: {', '.join(header) or 'nothing'}).",
        )
    rows = []
    start = 2
    try:
        for row in reader:
            rows.append((f"line {start}", row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"line {start}: {exc}") from None
    return rows


def _pick(row: dict[str, Any], name: str) -> str:
    for alias in _COUNSEL_COLUMNS[name]:
        if alias in row and row[alias] is not None:
            return str(row[alias])
    return ""


@transaction.atomic
def counsel_chat_import(
    *, fileobj: IO[Any], filename: str = "", user: User | None = None, dialogues: bool = False
) -> ImportResult:
    """counsel-chat (CSV with questionID, questionTitle, questionText, topic, answerText; or the
    JSONL variant): each question becomes a safety-labelling item; with ``dialogues`` each
    therapist answer also becomes a draft seed dialogue."""
    source = "counsel_chat"
    rows = _counsel_rows(file_text_read(fileobj), filename)
    file_check(bool(rows), "file", "no rows found.")
    questions: dict[str, tuple[str, str]] = {}
    answers: list[tuple[str, str, str, str, str]] = []
    for number, (where, row) in enumerate(rows, start=1):
        qid = _pick(row, "question_id").strip() or f"row{number}"
        question = text_field(_pick(row, "question"), where, "questionText")
        title = _pick(row, "title").strip()
        topic = _pick(row, "topic").strip()
        text = question if not title or title in question else f"{title}\n\n{question}"
        questions.setdefault(qid, (where, text))
        answer = _pick(row, "answer").strip()
        if dialogues:
            file_check(bool(answer), where, "answerText must be non-empty text.")
            answers.append((where, f"q{qid}-a{number}", text, answer, topic))
    existing = ids_existing(WorkItem, source, [f"q{q}" for q in questions], kind="safety")
    items = [
        imported_label_item_build(
            kind=WorkItem.Kind.SAFETY, text=text, source=source, external_id=f"q{qid}"
        )
        for qid, (_, text) in questions.items()
        if f"q{qid}" not in existing
    ]
    WorkItem.objects.bulk_create(items, batch_size=500)
    imported_items_masks_queue(items)
    result = ImportResult("counsel_chat", created=len(items), skipped=len(questions) - len(items))
    result.details["safety_items"] = len(items)
    if dialogues:
        existing_d = ids_existing(SeedDialogue, source, [a[1] for a in answers])
        new = [
            SeedDialogue(
                title=(text.splitlines()[0])[:200],
                messages=[
                    {"role": "user", "content": text},
                    {"role": "assistant", "content": answer},
                ],
                tags=[t.strip() for t in topic.split(",") if t.strip()],
                source=source,
                external_id=external_id,
                created_by=user,
            )
            for _, external_id, text, answer, topic in answers
            if external_id not in existing_d
        ]
        SeedDialogue.objects.bulk_create(new, batch_size=500)
        result.created += len(new)
        result.skipped += len(answers) - len(new)
        result.details["dialogues"] = len(new)
    import_audit(user, "import.counsel_chat", filename, result)
    return result
