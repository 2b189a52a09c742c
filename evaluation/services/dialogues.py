"""Seed dialogues: author, edit, paraphrase variants, and the review workflow
draft -> in review -> approved | rejected (with reviewer, time, reason and checklist)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.models import AuditEvent
from ari_review.ttl_cache import APPROVED_INDEX_KEY, ttl_cache_invalidate
from conversations.models import SessionType
from evaluation.models import SeedDialogue

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

State = SeedDialogue.State
ROLES = ("system", "user", "assistant")

# The quality checklist shown while reviewing; approval needs every item confirmed.
QUALITY_CHECKLIST = (
    ("validation_first", "Starts with validation"),
    ("consent_before_probing", "Asks consent before probing deeper"),
    ("reflective_questions", "Reflective questions rather than advice"),
    ("length_2_to_4", "Replies are 2-4 sentences"),
    ("safety_check", "A safety check where needed (or none needed)"),
)
CHECKLIST_KEYS = tuple(key for key, _ in QUALITY_CHECKLIST)
EDITABLE_FIELDS = ("title", "messages", "session_type", "flow_step", "tags")


def messages_validate(messages: object, *, where: str = "messages") -> list[dict[str, Any]]:
    """Check the messages format and return a clean copy (only ``role`` and ``content``)."""
    if not isinstance(messages, list) or not messages:
        raise ApplicationError(f"{where} must be a non-empty list of messages.")
    cleaned = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApplicationError(f"{where}[{i}] must be an object with role and content.")
        role = message.get("role")
        content = message.get("content")
        if role not in ROLES:
            raise ApplicationError(f"{where}[{i}].role must be one of: {', '.join(ROLES)}.")
        if not isinstance(content, str) or not content.strip():
            raise ApplicationError(f"{where}[{i}].content must be non-empty text.")
        cleaned.append({"role": role, "content": content.strip()})
    if not any(m["role"] == "assistant" for m in cleaned):
        raise ApplicationError(f"{where} must contain at least one assistant message.")
    return cleaned


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "messages" in fields:
        out["messages"] = messages_validate(fields["messages"])
    if "title" in fields:
        out["title"] = (fields["title"] or "").strip()[:200]
    if "session_type" in fields:
        value = fields["session_type"] or ""
        if value and value not in SessionType.values:
            raise ApplicationError(
                f"session_type must be empty or one of: {', '.join(SessionType.values)}."
            )
        out["session_type"] = value
    if "flow_step" in fields:
        out["flow_step"] = (fields["flow_step"] or "").strip()[:30]
    if "tags" in fields:
        tags = fields["tags"] or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ApplicationError("tags must be a list of strings.")
        out["tags"] = [t.strip() for t in tags if t.strip()]
    return out


def dialogue_snapshot(dialogue: SeedDialogue) -> dict[str, Any]:
    """What the audit trail records of a dialogue."""
    return {
        "title": dialogue.title,
        "messages": dialogue.messages,
        "session_type": dialogue.session_type,
        "flow_step": dialogue.flow_step,
        "tags": dialogue.tags,
        "state": dialogue.state,
        "variant_of_id": dialogue.variant_of_id,
        "review_reason": dialogue.review_reason,
    }


@transaction.atomic
def dialogue_create(
    *,
    author: User,
    messages: list[dict[str, Any]],
    title: str = "",
    session_type: str = "",
    flow_step: str = "",
    tags: list[str] | None = None,
    variant_of: SeedDialogue | None = None,
    source: str = "authored",
) -> SeedDialogue:
    fields = _check_fields(
        {
            "messages": messages,
            "title": title,
            "session_type": session_type,
            "flow_step": flow_step,
            "tags": tags or [],
        }
    )
    if variant_of is not None and variant_of.variant_of_id is not None:
        variant_of = variant_of.variant_of  # variants group under the original
    dialogue = SeedDialogue.objects.create(
        **fields, variant_of=variant_of, source=source, created_by=author
    )
    audit_event_record(
        actor=author, action="dialogue.create", obj=dialogue, after=dialogue_snapshot(dialogue)
    )
    return dialogue


@transaction.atomic
def dialogue_update(*, dialogue: SeedDialogue, editor: User, **changes: Any) -> SeedDialogue:
    """Edit a dialogue. Editing an approved or rejected dialogue sends it back to draft: only
    reviewed text may be approved."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"Cannot edit {sorted(unknown)[0]!r}.")
    fields = _check_fields(changes)
    dialogue = SeedDialogue.objects.select_for_update().get(pk=dialogue.pk)
    before = dialogue_snapshot(dialogue)
    changed = [name for name, value in fields.items() if getattr(dialogue, name) != value]
    if not changed:
        return dialogue
    for name in changed:
        setattr(dialogue, name, fields[name])
    if dialogue.state == State.APPROVED:
        ttl_cache_invalidate(APPROVED_INDEX_KEY)  # the chat's approved content changes
    if dialogue.state in (State.APPROVED, State.REJECTED):
        dialogue.state = State.DRAFT
        changed.append("state")
    dialogue.save(update_fields=[*changed, "updated_at"])
    audit_event_record(
        actor=editor,
        action="dialogue.update",
        obj=dialogue,
        before=before,
        after=dialogue_snapshot(dialogue),
    )
    return dialogue


@transaction.atomic
def dialogue_variant_create(
    *, original: SeedDialogue, author: User, message_index: int, content: str
) -> SeedDialogue:
    """A paraphrase variant: the same dialogue with one user message reworded, grouped under
    the original."""
    messages = [dict(m) for m in original.messages]
    if not 0 <= message_index < len(messages) or messages[message_index]["role"] != "user":
        raise ApplicationError("Choose a user message of the dialogue to paraphrase.")
    if not (content or "").strip():
        raise ApplicationError("The paraphrase must not be empty.")
    if content.strip() == messages[message_index]["content"]:
        raise ApplicationError("The paraphrase is the same as the original message.")
    messages[message_index]["content"] = content.strip()
    title = f"{original.title or f'Dialogue {original.pk}'} (variant)"
    return dialogue_create(
        author=author,
        messages=messages,
        title=title[:200],
        session_type=original.session_type,
        flow_step=original.flow_step,
        tags=list(original.tags),
        variant_of=original,
    )


def _transition(
    dialogue: SeedDialogue,
    *,
    user: User,
    allowed: tuple[str, ...],
    to: str,
    action: str,
    **fields: Any,
) -> SeedDialogue:
    dialogue = SeedDialogue.objects.select_for_update().get(pk=dialogue.pk)
    if dialogue.state not in allowed:
        raise ApplicationError(
            f"A {dialogue.get_state_display().lower()} dialogue cannot be {action}."
        )
    before = dialogue_snapshot(dialogue)
    if State.APPROVED in (dialogue.state, to):
        ttl_cache_invalidate(APPROVED_INDEX_KEY)  # the chat's approved content changes
    dialogue.state = to
    for name, value in fields.items():
        setattr(dialogue, name, value)
    dialogue.save()
    audit_event_record(
        actor=user,
        action=f"dialogue.{action}",
        obj=dialogue,
        before=before,
        after={**dialogue_snapshot(dialogue), "checklist": dialogue.checklist},
    )
    logger.info("dialogue %s dialogue_id=%s", action, dialogue.pk)
    return dialogue


@transaction.atomic
def dialogue_submit(*, dialogue: SeedDialogue, user: User) -> SeedDialogue:
    return _transition(
        dialogue,
        user=user,
        allowed=(State.DRAFT, State.REJECTED),
        to=State.IN_REVIEW,
        action="submitted",
    )


def _check_reviewer(dialogue: SeedDialogue, reviewer: User) -> None:
    """Four eyes: nobody reviews a dialogue they wrote or imported (``created_by``) or submitted
    for review (the latest ``dialogue.submitted`` in the audit trail)."""
    if settings.EVALUATION_ALLOW_SELF_APPROVAL:
        return
    if dialogue.created_by_id is not None and dialogue.created_by_id == reviewer.pk:
        raise ApplicationError("Another clinician must review a dialogue you wrote or imported.")
    submitted = (
        AuditEvent.objects.filter(
            action="dialogue.submitted",
            object_type=dialogue._meta.label_lower,
            object_id=str(dialogue.pk),
        )
        .order_by("-id")
        .values_list("actor_id", flat=True)
        .first()
    )
    if submitted is not None and submitted == reviewer.pk:
        raise ApplicationError("Another clinician must review a dialogue you submitted.")


@transaction.atomic
def dialogue_approve(
    *, dialogue: SeedDialogue, reviewer: User, checklist: dict[str, bool], reason: str = ""
) -> SeedDialogue:
    _check_reviewer(dialogue, reviewer)
    missing = [label for key, label in QUALITY_CHECKLIST if not checklist.get(key)]
    if missing:
        raise ApplicationError(f"Confirm the quality checklist first: {missing[0]}.")
    return _transition(
        dialogue,
        user=reviewer,
        allowed=(State.IN_REVIEW,),
        to=State.APPROVED,
        action="approved",
        reviewer=reviewer,
        reviewed_at=timezone.now(),
        review_reason=(reason or "").strip(),
        checklist={key: bool(checklist.get(key)) for key in CHECKLIST_KEYS},
    )


@transaction.atomic
def dialogue_reject(
    *, dialogue: SeedDialogue, reviewer: User, reason: str, checklist: dict[str, bool] | None = None
) -> SeedDialogue:
    _check_reviewer(dialogue, reviewer)
    if not (reason or "").strip():
        raise ApplicationError("Say why the dialogue is rejected.")
    checklist = checklist or {}
    return _transition(
        dialogue,
        user=reviewer,
        allowed=(State.IN_REVIEW,),
        to=State.REJECTED,
        action="rejected",
        reviewer=reviewer,
        reviewed_at=timezone.now(),
        review_reason=reason.strip(),
        checklist={key: bool(checklist.get(key)) for key in CHECKLIST_KEYS},
    )
