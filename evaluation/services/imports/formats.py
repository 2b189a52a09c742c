"""The import formats and the one entry point the admin action, the page and the API use."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from evaluation.services.imports.common import ImportFileError, ImportResult
from evaluation.services.imports.counsel_chat import counsel_chat_import
from evaluation.services.imports.dialogues import dialogues_import
from evaluation.services.imports.esconv import esconv_import
from evaluation.services.imports.kakoverse import kakoverse_import

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FORMATS = ("dialogues", "counsel_chat", "esconv", "kakoverse")


def import_file(
    *, format: str, fileobj: IO[Any], filename: str, user: User | None = None, **options: Any
) -> ImportResult:
    """One entry point for the admin action, the page and the API."""
    if format == "dialogues":
        return dialogues_import(fileobj=fileobj, filename=filename, user=user)
    if format == "counsel_chat":
        return counsel_chat_import(
            fileobj=fileobj, filename=filename, user=user, dialogues=options.get("dialogues", False)
        )
    if format == "esconv":
        return esconv_import(
            fileobj=fileobj,
            filename=filename,
            user=user,
            intent_items=options.get("intent_items", False),
        )
    if format == "kakoverse":
        return kakoverse_import(files=[(filename, fileobj)], user=user)
    raise ImportFileError(f"Unknown import format {format!r}; choose one of: {', '.join(FORMATS)}.")
