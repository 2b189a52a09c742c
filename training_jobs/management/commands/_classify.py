"""Shared JSONL loop of ``classify_risk`` and ``classify_intent``."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from conversations.backends.classifiers import ClassifierUnavailable


def run_jsonl(
    command: BaseCommand,
    *,
    input_path: str,
    output_path: str,
    load,
    parse,
    classify,
    batch_size: int,
) -> tuple[int, int]:
    """Read IN.jsonl, classify valid lines in batches, write one output line per input line.

    A malformed line gets ``{"id", "error"}`` and the run goes on. Unreadable or unwritable
    files raise CommandError (exit code 1).
    """
    try:
        source = open(input_path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"cannot read {input_path}: {exc.strerror}") from None
    try:
        predictor = load()
    except ClassifierUnavailable as exc:
        source.close()
        raise CommandError(str(exc)) from None
    try:
        sink = open(output_path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        source.close()
        raise CommandError(f"cannot write {output_path}: {exc.strerror}") from None
    ok = errors = 0
    pending: list[tuple[object, object]] = []

    def flush():
        nonlocal ok
        if not pending:
            return
        results = classify(predictor, [p for _, p in pending])
        for (row_id, _), result in zip(pending, results, strict=True):
            _write(sink, {"id": row_id, **result})
            ok += 1
        pending.clear()

    with source, sink:
        try:
            for number, line in enumerate(source, 1):
                if not line.strip():
                    continue
                row_id, parsed, error = _parse_line(line, number, parse)
                if error:
                    flush()
                    _write(sink, {"id": row_id, "error": error})
                    errors += 1
                    continue
                pending.append((row_id, parsed))
                if len(pending) >= batch_size:
                    flush()
            flush()
        except UnicodeDecodeError:
            raise CommandError(f"cannot read {input_path}: not UTF-8 text") from None
        except OSError as exc:
            raise CommandError(f"I/O error: {exc.strerror}") from None
    return ok, errors


def _write(sink, obj: dict) -> None:
    sink.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _parse_line(line: str, number: int, parse: Callable):
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"line {number}: not valid JSON ({exc.msg})"
    if not isinstance(obj, dict):
        return None, None, f"line {number}: expected a JSON object"
    row_id = obj.get("id")
    if row_id is None:
        return None, None, f"line {number}: missing 'id'"
    try:
        return row_id, parse(obj), None
    except ValueError as exc:
        return row_id, None, f"line {number}: {exc}"


def add_io_arguments(parser) -> None:
    parser.add_argument("--input", required=True, help="JSONL file, one object per line")
    parser.add_argument("--output", required=True, help="JSONL file to write")
    parser.add_argument("--batch-size", type=int, default=64)
