"""Importers: seed dialogues (JSON list or OpenAI JSONL), counsel-chat (CSV or JSONL), ESConv
JSON and KakoVerse conversation JSON.

Each import parses and checks the whole file first, then writes everything in one transaction:
a bad file raises ``ImportFileError`` naming the line or record, and nothing is imported.
Records whose id was imported before are skipped, so importing a file twice is harmless.

Text from a file follows the application's one rule for text from outside
(``ari_review.validation``): control characters (raw or as JSON escapes such as ``\u0000``)
and JSON nested deeper than ``ARI_MAX_JSON_DEPTH`` refuse the file naming the line or record.
A file over ``ARI_MAX_UPLOAD_BYTES`` is refused before it is read (uploads larger than that
are already a 413 at the HTTP edge: ``ari_review.request_edges``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.validation import CONTROL_CHARS, control_chars_message, data_problem
from evaluation.models import PreferenceCandidate, SeedDialogue, WorkItem
from evaluation.services.dialogues import messages_validate
from evaluation.services.queues import imported_label_item_build, label_reviews_required

logger = logging.getLogger(__name__)

FORMATS = ("dialogues", "counsel_chat", "esconv", "kakoverse")

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


class ImportFileError(ApplicationError):
    """The file cannot be imported; the message names the line or record."""


@dataclass
class ImportResult:
    format: str
    created: int = 0
    skipped: int = 0
    details: dict = field(default_factory=dict)

    def summary(self) -> str:
        extra = "".join(f", {k}: {v}" for k, v in self.details.items())
        return (
            f"{self.format}: {self.created} created, "
            f"{self.skipped} skipped (already imported){extra}"
        )


def _read_text(fileobj: IO) -> str:
    size = getattr(fileobj, "size", None)  # uploads (Django's UploadedFile)
    if size is not None and size > settings.ARI_MAX_UPLOAD_BYTES:
        raise ImportFileError(
            f"The file is {size:,} bytes; an import may be at most "
            f"{settings.ARI_MAX_UPLOAD_BYTES:,} bytes (ARI_MAX_UPLOAD_BYTES)."
        )
    data = fileobj.read()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"The file is not UTF-8 text (byte {exc.start}).") from None
    if match := CONTROL_CHARS.search(data):
        line = data.count("\n", 0, match.start()) + 1
        raise ImportFileError(f"line {line}: {control_chars_message('The text')}")
    return data


def _json_checked(value, where: str):
    """``value`` parsed from JSON, or ImportFileError naming the record and field."""
    problem = data_problem(value, max_depth=settings.ARI_MAX_JSON_DEPTH, root="record")
    if problem is not None:
        raise ImportFileError(f"{where}, {problem.field}: {problem.message}")
    return value


def _load_json(text: str, what: str):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})."
        ) from None
    except RecursionError:
        raise ImportFileError(f"{what}: JSON nested too deeply.") from None
    return _json_checked(value, what)


def _load_jsonl(text: str) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _json_checked(json.loads(line), f"line {number}")
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"line {number}: not valid JSON ({exc.msg}).") from None
        except RecursionError:
            raise ImportFileError(f"line {number}: JSON nested too deeply.") from None
        if not isinstance(row, dict):
            raise ImportFileError(f"line {number}: each line must be a JSON object.")
        rows.append((number, row))
    return rows


def _check(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise ImportFileError(f"{where}: {problem}")


def _text(value, where: str, name: str) -> str:
    _check(isinstance(value, str) and value.strip() != "", where, f"{name} must be non-empty text.")
    return value.strip()


def _messages(value, where: str) -> list[dict]:
    try:
        return messages_validate(value)
    except ApplicationError as exc:
        raise ImportFileError(f"{where}: {exc.message}") from None


def _existing_ids(model, source: str, ids: Iterable[str], **filters) -> set[str]:
    ids = [i for i in ids if i]
    if not ids:
        return set()
    return set(
        model.objects.filter(source=source, external_id__in=ids, **filters).values_list(
            "external_id", flat=True
        )
    )


def _unique_ids(records: list[tuple[str, str]]) -> None:
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


# --- Seed dialogues ----------------------------------------------------------------------------


@dataclass
class _DialogueRecord:
    where: str
    external_id: str
    fields: dict
    variants: list[_DialogueRecord] = field(default_factory=list)


def _dialogue_record(raw, where: str, *, allow_variants: bool = True) -> _DialogueRecord:
    _check(isinstance(raw, dict), where, "each dialogue must be a JSON object.")
    messages = _messages(raw.get("messages"), where)
    state = raw.get("state", SeedDialogue.State.DRAFT)
    _check(
        state in (SeedDialogue.State.DRAFT, SeedDialogue.State.IN_REVIEW),
        where,
        "imported dialogues start as draft or in_review (approval happens in the workspace).",
    )
    tags = raw.get("tags", [])
    _check(
        isinstance(tags, list) and all(isinstance(t, str) for t in tags),
        where,
        "tags must be a list of strings.",
    )
    external_id = raw.get("id", "")
    _check(isinstance(external_id, str | int), where, "id must be text or a number.")
    record = _DialogueRecord(
        where=where,
        external_id=str(external_id),
        fields={
            "title": str(raw.get("title", "") or "")[:200],
            "messages": messages,
            "session_type": str(raw.get("session_type", "") or ""),
            "flow_step": str(raw.get("flow_step", "") or "")[:30],
            "tags": tags,
            "state": state,
        },
    )
    variants = raw.get("variants", [])
    _check(isinstance(variants, list), where, "variants must be a list of dialogues.")
    _check(allow_variants or not variants, where, "a variant cannot have variants of its own.")
    record.variants = [
        _dialogue_record(v, f"{where}, variant {i}", allow_variants=False)
        for i, v in enumerate(variants, start=1)
    ]
    return record


@transaction.atomic
def dialogues_import(*, fileobj: IO, filename: str = "", user=None, source: str = "import"):
    """Seed dialogues: a JSON list of ``{"id"?, "title"?, "messages", "session_type"?,
    "flow_step"?, "tags"?, "state"?: draft|in_review, "variants"?: [...]}``, or JSONL with one
    ``{"messages": [...]}`` per line (the OpenAI fine-tuning format)."""
    text = _read_text(fileobj)
    stripped = text.lstrip()
    jsonl = filename.endswith(".jsonl")
    if not jsonl and not stripped.startswith("["):
        try:
            json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            jsonl = True  # several JSON objects, one per line
    if jsonl:
        records = [
            _dialogue_record(raw, f"line {number}", allow_variants=False)
            for number, raw in _load_jsonl(text)
        ]
    else:
        data = _load_json(text, "dialogues")
        if isinstance(data, dict):
            data = [data]
        _check(isinstance(data, list), "file", "expected a JSON list of dialogues.")
        records = [_dialogue_record(raw, f"record {i}") for i, raw in enumerate(data, start=1)]
    _check(bool(records), "file", "no dialogues found.")
    all_records = [r for rec in records for r in (rec, *rec.variants)]
    _unique_ids([(r.where, r.external_id) for r in all_records])
    existing = _existing_ids(SeedDialogue, source, [r.external_id for r in all_records])
    result = ImportResult("dialogues")
    for record in records:
        if record.external_id and record.external_id in existing:
            result.skipped += 1 + len(record.variants)
            continue
        parent = SeedDialogue.objects.create(
            **record.fields, source=source, external_id=record.external_id, created_by=user
        )
        result.created += 1
        variants = [
            SeedDialogue(
                **v.fields,
                source=source,
                external_id=v.external_id,
                created_by=user,
                variant_of=parent,
            )
            for v in record.variants
            if not (v.external_id and v.external_id in existing)
        ]
        SeedDialogue.objects.bulk_create(variants)
        result.created += len(variants)
        result.skipped += len(record.variants) - len(variants)
    _audit(user, "import.dialogues", filename, result)
    return result


# --- counsel-chat ------------------------------------------------------------------------------

_COUNSEL_COLUMNS = {
    "question_id": ("questionID", "question_id", "questionId"),
    "title": ("questionTitle", "title", "question_title"),
    "question": ("questionText", "question", "question_text"),
    "topic": ("topic", "topics"),
    "answer": ("answerText", "answer", "answer_text"),
}


def _counsel_rows(text: str, filename: str) -> list[tuple[str, dict]]:
    if filename.endswith(".jsonl"):
        return [(f"line {n}", row) for n, row in _load_jsonl(text)]
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for name, aliases in _COUNSEL_COLUMNS.items():
        if name in ("title", "topic"):
            continue
        _check(
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


def _pick(row: dict, name: str) -> str:
    for alias in _COUNSEL_COLUMNS[name]:
        if alias in row and row[alias] is not None:
            return str(row[alias])
    return ""


@transaction.atomic
def counsel_chat_import(
    *, fileobj: IO, filename: str = "", user=None, dialogues: bool = False
) -> ImportResult:
    """counsel-chat (CSV with questionID, questionTitle, questionText, topic, answerText; or the
    JSONL variant): each question becomes a safety-labelling item; with ``dialogues`` each
    therapist answer also becomes a draft seed dialogue."""
    source = "counsel_chat"
    rows = _counsel_rows(_read_text(fileobj), filename)
    _check(bool(rows), "file", "no rows found.")
    questions: dict[str, tuple[str, str]] = {}
    answers: list[tuple[str, str, str, str, str]] = []
    for number, (where, row) in enumerate(rows, start=1):
        qid = _pick(row, "question_id").strip() or f"row{number}"
        question = _text(_pick(row, "question"), where, "questionText")
        title = _pick(row, "title").strip()
        topic = _pick(row, "topic").strip()
        text = question if not title or title in question else f"{title}\n\n{question}"
        questions.setdefault(qid, (where, text))
        answer = _pick(row, "answer").strip()
        if dialogues:
            _check(bool(answer), where, "answerText must be non-empty text.")
            answers.append((where, f"q{qid}-a{number}", text, answer, topic))
    existing = _existing_ids(WorkItem, source, [f"q{q}" for q in questions], kind="safety")
    items = [
        imported_label_item_build(
            kind=WorkItem.Kind.SAFETY, text=text, source=source, external_id=f"q{qid}"
        )
        for qid, (_, text) in questions.items()
        if f"q{qid}" not in existing
    ]
    WorkItem.objects.bulk_create(items, batch_size=500)
    result = ImportResult("counsel_chat", created=len(items), skipped=len(questions) - len(items))
    result.details["safety_items"] = len(items)
    if dialogues:
        existing_d = _existing_ids(SeedDialogue, source, [a[1] for a in answers])
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
    _audit(user, "import.counsel_chat", filename, result)
    return result


# --- ESConv ------------------------------------------------------------------------------------


@transaction.atomic
def esconv_import(
    *, fileobj: IO, filename: str = "", user=None, intent_items: bool = False
) -> ImportResult:
    """ESConv JSON (a list of conversations with ``dialog: [{"speaker", "content",
    "annotation": {"strategy"}}]``): each conversation becomes a draft seed dialogue (seeker ->
    user, supporter -> assistant, consecutive turns of one speaker merged); with
    ``intent_items`` each supporter reply also becomes an intent-labelling item."""
    source = "esconv"
    data = _load_json(_read_text(fileobj), "ESConv")
    if isinstance(data, dict):
        data = [data]
    _check(isinstance(data, list) and bool(data), "file", "expected a JSON list of conversations.")
    parsed = []
    for index, raw in enumerate(data, start=1):
        where = f"record {index}"
        _check(isinstance(raw, dict), where, "each conversation must be a JSON object.")
        dialog = raw.get("dialog")
        _check(isinstance(dialog, list) and bool(dialog), where, "dialog must be a non-empty list.")
        messages: list[dict] = []
        strategies: list[str | None] = []
        for t, turn in enumerate(dialog):
            turn_where = f"{where}, dialog[{t}]"
            _check(isinstance(turn, dict), turn_where, "each turn must be an object.")
            speaker = str(turn.get("speaker", "")).lower()
            if speaker in ESCONV_SEEKER:
                role = "user"
            elif speaker in ESCONV_SUPPORTER:
                role = "assistant"
            else:
                raise ImportFileError(f"{turn_where}: speaker {speaker!r} is not seeker/supporter.")
            content = _text(turn.get("content"), turn_where, "content")
            annotation = turn.get("annotation") or {}
            strategy = annotation.get("strategy") if isinstance(annotation, dict) else None
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"] += " " + content
                strategies[-1] = strategies[-1] or strategy
            else:
                messages.append({"role": role, "content": content})
                strategies.append(strategy)
        messages = _messages(messages, where)
        meta = {
            "strategies": strategies,
            **{k: raw[k] for k in ("emotion_type", "problem_type", "experience_type") if k in raw},
        }
        parsed.append((f"esconv-{index}", messages, meta))
    existing = _existing_ids(SeedDialogue, source, [p[0] for p in parsed])
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
        seen = _existing_ids(WorkItem, source, [i.external_id for i in items], kind="intent")
        items = [i for i in items if i.external_id not in seen]
        WorkItem.objects.bulk_create(items, batch_size=500)
        result.created += len(items)
        result.skipped += len(seen)
        result.details["intent_items"] = len(items)
    _audit(user, "import.esconv", filename, result)
    return result


# --- KakoVerse ---------------------------------------------------------------------------------


@transaction.atomic
def kakoverse_import(*, files: list[tuple[str, IO]], user=None) -> ImportResult:
    """KakoVerse conversation JSON (``{"persona_id", "turns": [{"turn_index",
    "seeker_message", "supporter_responses": [{"style", "care_level", "message"}]}]}``, one per
    file or a list): every supporter turn becomes a preference item whose candidates are its
    styles. The context is the conversation so far (earlier turns continue with the baseline
    reply)."""
    source = "kakoverse"
    parsed = []
    for name, fileobj in files:
        data = _load_json(_read_text(fileobj), name)
        conversations = data if isinstance(data, list) else [data]
        for c_index, raw in enumerate(conversations, start=1):
            where = f"{name}, record {c_index}"
            _check(isinstance(raw, dict), where, "each conversation must be a JSON object.")
            persona = str(raw.get("persona_id") or f"{name}-{c_index}")
            turns = raw.get("turns")
            _check(
                isinstance(turns, list) and bool(turns), where, "turns must be a non-empty list."
            )
            context: list[dict] = []
            for t, turn in enumerate(turns):
                turn_where = f"{where}, turns[{t}]"
                _check(isinstance(turn, dict), turn_where, "each turn must be an object.")
                seeker = _text(turn.get("seeker_message"), turn_where, "seeker_message")
                responses = turn.get("supporter_responses")
                _check(
                    isinstance(responses, list) and 2 <= len(responses) <= 3,
                    turn_where,
                    "supporter_responses must list 2 or 3 replies.",
                )
                candidates = []
                for r, response in enumerate(responses):
                    r_where = f"{turn_where}.supporter_responses[{r}]"
                    _check(isinstance(response, dict), r_where, "each reply must be an object.")
                    message = _text(response.get("message"), r_where, "message")
                    care = response.get("care_level")
                    _check(
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
    _check(bool(parsed), "file", "no conversations found.")
    _unique_ids([(where, ext) for where, ext, _, _ in parsed])
    existing = _existing_ids(WorkItem, source, [p[1] for p in parsed], kind="preference")
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
    _audit(user, "import.kakoverse", ", ".join(name for name, _ in files), result)
    return result


def _audit(user, action: str, filename: str, result: ImportResult) -> None:
    audit_event_record(
        actor=user,
        action=action,
        object_type="evaluation.import",
        object_id=filename[:64] or "-",
        after={"created": result.created, "skipped": result.skipped, **result.details},
    )
    logger.info("%s created=%s skipped=%s", action, result.created, result.skipped)


def import_file(*, format: str, fileobj: IO, filename: str, user=None, **options) -> ImportResult:
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
