"""The seed-dialogue bank: whole sessions written by independent writers, one file per writer.

``seed_dialogues/*.jsonl`` holds one dialogue per line::

    {"key": "writer.12", "title": "...", "session_type": "gentle_deep", "concern": "grief",
     "feelings": ["grieving"], "source": "writer", "variant_of": null,
     "messages": [{"role": "user", "content": "..."},
                  {"role": "assistant", "content": "...", "flow_step": "validate"}, ...]}

Every assistant message names its flow step. They enter the workspace as **drafts** for
clinician approval (``evaluation.services.starter.seed_bank_load``, from
``load_starter_content``); once approved, the
``approved`` backend and the generation prompt's examples draw on them step by step. A paraphrase
variant points at its original with ``variant_of``.

:func:`seed_dialogues_read` checks every line and raises :class:`SeedBankError` naming the file,
the line and the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

from conversations.flows import CONSENT_DECLINED, CONSENT_REASK, FLOWS

SEED_DIR = Path(__file__).resolve().parent / "seed_dialogues"
# Steps a session type's dialogue may use besides its flow's own.
_EXTRA_STEPS = {"gentle_deep": (CONSENT_REASK, CONSENT_DECLINED)}
_REQUIRED = ("key", "title", "session_type", "concern", "source", "messages")


class SeedBankError(ValueError):
    """A seed-dialogue file breaks the format; the message names the file, line and problem."""


def seed_files(directory: Path = SEED_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def seed_dialogues_read(directory: Path = SEED_DIR) -> list[dict]:
    """Every dialogue of the bank, checked; keys are unique across files."""
    dialogues: list[dict] = []
    seen: dict[str, str] = {}
    for path in seed_files(directory):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SeedBankError(f"{where}: not valid JSON ({exc.msg})") from None
            seed_dialogue_check(entry, where)
            if entry["key"] in seen:
                first = seen[entry["key"]]
                raise SeedBankError(f"{where}: key {entry['key']!r} already used at {first}")
            seen[entry["key"]] = where
            dialogues.append(entry)
    for entry in dialogues:
        parent = entry.get("variant_of")
        if parent and parent not in seen:
            raise SeedBankError(f"{seen[entry['key']]}: variant_of {parent!r} names no dialogue")
    return dialogues


def seed_dialogue_check(entry, where: str) -> None:
    """Raise :class:`SeedBankError` unless ``entry`` is a well-formed seed dialogue."""
    if not isinstance(entry, dict):
        raise SeedBankError(f"{where}: each line must be a JSON object")
    missing = [name for name in _REQUIRED if not entry.get(name)]
    if missing:
        raise SeedBankError(f"{where}: missing {', '.join(missing)}")
    session_type = entry["session_type"]
    if session_type not in FLOWS:
        raise SeedBankError(
            f"{where}: session_type {session_type!r} is not one of {', '.join(FLOWS)}"
        )
    feelings = entry.get("feelings", [])
    if not isinstance(feelings, list) or not all(isinstance(f, str) for f in feelings):
        raise SeedBankError(f"{where}: feelings must be a list of words")
    steps = _checked_messages(entry["messages"], where)
    _check_steps(session_type, steps, where)


def _checked_messages(messages, where: str) -> list[str]:
    """The assistant messages' steps, once the messages alternate user / assistant."""
    if not isinstance(messages, list) or len(messages) < 2:
        raise SeedBankError(f"{where}: messages must be a list of at least two messages")
    steps = []
    for index, message in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        if not isinstance(message, dict) or message.get("role") != expected:
            raise SeedBankError(f"{where}: message {index + 1} must be a {expected} message")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise SeedBankError(f"{where}: message {index + 1} has no content")
        if expected == "assistant":
            steps.append(message.get("flow_step") or "")
    if messages[-1]["role"] != "assistant":
        raise SeedBankError(f"{where}: a dialogue ends with the assistant's reply")
    return steps


def _check_steps(session_type: str, steps: list[str], where: str) -> None:
    """Known steps, the flow's first step first, ``close`` last, never a step back in the flow
    (except listening again after a declined consent)."""
    flow = FLOWS[session_type]
    known = (*flow, *_EXTRA_STEPS.get(session_type, ()))
    for index, step in enumerate(steps, start=1):
        if step not in known:
            raise SeedBankError(
                f"{where}: assistant message {index} has step {step!r}; "
                f"{session_type} uses {', '.join(known)}"
            )
    if steps[0] != flow[0] or steps[-1] != "close":
        raise SeedBankError(
            f"{where}: a {session_type} dialogue starts with step {flow[0]!r} and ends with "
            f"'close' (got {steps[0]!r} ... {steps[-1]!r})"
        )
    position: dict[str, float] = {step: i for i, step in enumerate(flow)}
    consent = position.get("consent", 0)
    position.update({CONSENT_REASK: consent, CONSENT_DECLINED: consent + 0.5})
    declined = False
    for before, after in zip(steps, steps[1:], strict=False):
        declined = declined or before == CONSENT_DECLINED
        if position[after] < position[before] and not (declined and after == flow[0]):
            raise SeedBankError(f"{where}: step {after!r} comes after {before!r}")
