"""Shared plumbing for the import and export commands."""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError

from ari_review.api.errors import ApplicationError
from ari_review.audit import export_audit_record


def run_import(command, func, path: str, **kwargs):
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file", returncode=2)
    try:
        with file.open("rb") as handle:
            result = func(fileobj=handle, filename=file.name, **kwargs)
    except ApplicationError as exc:
        raise CommandError(f"{file.name}: nothing imported: {exc.message}") from None
    command.stdout.write(result.summary())
    return result


@contextmanager
def output(path: str | None, *, newline: str | None = None):
    """A text stream: the file at ``path`` (folders created), or stdout for None / "-"."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline=newline) as handle:
        yield handle


def audit_export(*, command: str, export: str, format: str, rows: int, filters: dict) -> None:
    """Audit an export made from the shell: no application user, so the OS user is recorded."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    export_audit_record(
        actor=None,
        export=export,
        format=format,
        rows=rows,
        filters=filters,
        via=f"command:{command} (os user {who})",
    )
