"""What text the application accepts from outside, in one place.

Every edge calls these rules: the JSON parser of the API (``ari_review.api.parsers``), the
middleware that checks query strings, form fields and upload names
(``ari_review.request_edges``), the chat message service
(``conversations.services.message_input``) and the importers. A problem is a clear 400 naming
the field, never a 500 from PostgreSQL (which cannot store NUL in text or JSON):

- control characters (Unicode category Cc: NUL, escape, form feed, DEL, U+0080-U+009F) other
  than tab, newline and carriage return;
- lone surrogates (category Cs: only reachable through JSON escapes, not encodable as UTF-8);
- JSON nested deeper than ``ARI_MAX_JSON_DEPTH`` levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; tab, newline and carriage
# return are ordinary text. Category Cs is U+D800-U+DFFF.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATES = re.compile("[\ud800-\udfff]")


def control_chars_message(subject: str) -> str:
    return f"{subject} contains control characters (such as NUL). Please remove them and try again."


def invalid_chars_message(subject: str) -> str:
    return (
        f"{subject} contains invalid characters (unpaired surrogates). Please remove them and "
        "try again."
    )


def text_problem(text: str, *, subject: str = "This field") -> str | None:
    """Why ``text`` cannot be accepted, or None when its characters are fine."""
    if CONTROL_CHARS.search(text):
        return control_chars_message(subject)
    if SURROGATES.search(text):
        return invalid_chars_message(subject)
    return None


@dataclass(frozen=True)
class InputProblem:
    """``field``: where, as a dotted path (``messages.0.content``); ``message``: what."""

    field: str
    message: str


def json_depth_message(max_depth: int) -> str:
    return f"JSON is nested more than {max_depth} levels deep."


def data_problem(data, *, max_depth: int, root: str = "body") -> InputProblem | None:
    """The first problem in parsed JSON (every key and string value, at any depth), or None.

    Walks without recursion, so a hostile document cannot exhaust the stack; ``max_depth``
    counts containers (``{"a": [1]}`` is 2 deep).
    """
    stack: list[tuple[str, object, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if problem := text_problem(value):
                return InputProblem(path or root, problem)
            continue
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                key = str(key)
                if problem := text_problem(key, subject="A field name"):
                    return InputProblem(path or root, problem)
                items.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list | tuple):
            items = [(f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value)]
        else:
            continue
        if depth + 1 > max_depth:
            return InputProblem(path or root, json_depth_message(max_depth))
        # Reversed, so problems are reported in document order.
        stack.extend((child, item, depth + 1) for child, item in reversed(items))
    return None
