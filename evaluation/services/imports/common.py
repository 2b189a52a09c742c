"""What every importer shares: the error that names the line or record, the result, reading
and checking the file (size, UTF-8, control characters, JSON depth), ids seen before, the
audit event."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.validation import CONTROL_CHARS, control_chars_message, data_problem
from evaluation.services.dialogues import messages_validate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from evaluation.models import SeedDialogue, WorkItem

logger = logging.getLogger(__name__)


class ImportFileError(ApplicationError):
    """The file cannot be imported; the message names the line or record."""


@dataclass
class ImportResult:
    format: str
    created: int = 0
    skipped: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        extra = "".join(f", {k}: {v}" for k, v in self.details.items())
        return (
            f"{self.format}: {self.created} created, "
            f"{self.skipped} skipped (already imported){extra}"
        )


def file_text_read(fileobj: IO[Any]) -> str:
    size = getattr(fileobj, "size", None)  # uploads (Django's UploadedFile)
    if size is not None and size > settings.ARI_MAX_UPLOAD_BYTES:
        raise ImportFileError(
            f"The file is {size:,} bytes; an import may be at most "
            f"{settings.ARI_MAX_UPLOAD_BYTES:,} bytes (ARI_MAX_UPLOAD_BYTES)."
        )
    data: str | bytes = fileobj.read()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"The file is not UTF-8 text (byte {exc.start}).") from None
    if match := CONTROL_CHARS.search(data):
        line = data.count("\n", 0, match.start()) + 1
        raise ImportFileError(f"line {line}: {control_chars_message('The text')}")
    return data


def json_checked(value: Any, where: str) -> Any:
    """``value`` parsed from JSON, or ImportFileError naming the record and field."""
    problem = data_problem(value, max_depth=settings.ARI_MAX_JSON_DEPTH, root="record")
    if problem is not None:
        raise ImportFileError(f"{where}, {problem.field}: {problem.message}")
    return value


def json_load(text: str, what: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})."
        ) from None
    except RecursionError:
        raise ImportFileError(f"{what}: JSON nested too deeply.") from None
    return json_checked(value, what)


def jsonl_load(text: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json_checked(json.loads(line), f"line {number}")
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"line {number}: not valid JSON ({exc.msg}).") from None
        except RecursionError:
            raise ImportFileError(f"line {number}: JSON nested too deeply.") from None
        if not isinstance(row, dict):
            raise ImportFileError(f"line {number}: each line must be a JSON object.")
        rows.append((number, row))
    return rows


def file_check(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise ImportFileError(f"{where}: {problem}")


def text_field(value: object, where: str, name: str) -> str:
    if not isinstance(value, str) or value.strip() == "":
        raise ImportFileError(f"{where}: {name} must be non-empty text.")
    return value.strip()


def messages_field(value: object, where: str) -> list[dict[str, Any]]:
    try:
        return messages_validate(value)
    except ApplicationError as exc:
        raise ImportFileError(f"{where}: {exc.message}") from None


def ids_existing(
    model: type[SeedDialogue] | type[WorkItem], source: str, ids: Iterable[str], **filters: Any
) -> set[str]:
    ids = [i for i in ids if i]
    if not ids:
        return set()
    return set(
        model.objects.filter(source=source, external_id__in=ids, **filters).values_list(
            "external_id", flat=True
        )
    )


def ids_unique_check(records: list[tuple[str, str]]) -> None:
    """records: (where, external_id); an id may appear once per file."""
    seen: dict[str, str] = {}
    for where, external_id in records:
        if not external_id:
            continue
        if external_id in seen:
            raise ImportFileError(
                f"{where}: id {external_id!r} already used at {seen[external_id]}."
            )
        seen[external_id] = where


def import_audit(user: User | None, action: str, filename: str, result: ImportResult) -> None:
    audit_event_record(
        actor=user,
        action=action,
        object_type="evaluation.import",
        object_id=filename[:64] or "-",
        after={"created": result.created, "skipped": result.skipped, **result.details},
    )
    logger.info("%s created=%s skipped=%s", action, result.created, result.skipped)
