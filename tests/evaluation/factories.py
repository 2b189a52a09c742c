"""Sessions, messages and workspace objects built directly through the models (the chat
pipeline is not involved). High-risk examples express distress only, never method details."""

from __future__ import annotations

import itertools

from django.utils import timezone

from ari_review.services import user_upsert
from conversations.models import ChatSession, Escalation, Message
from evaluation.models import PreferenceCandidate, SeedDialogue, WorkItem

_counter = itertools.count(1)


def make_user(
    role: str = "enduser",
    username: str | None = None,
    password: str = "pw-for-tests-123",  # noqa: S107 - the suite's password (tests/conftest.py)
):
    username = username or f"{role}_{next(_counter)}"
    return user_upsert(username=username, role=role, password=password).user


def make_message(session: ChatSession, role: str, text: str, **fields) -> Message:
    return Message.objects.create(session=session, role=role, text=text, **fields)


def make_session(
    *,
    user=None,
    turns: list[tuple[str, str]] | None = None,
    risk_levels: list[str] | None = None,
    flagged: bool = False,
    max_risk_level: str = "none",
    min_safety_confidence: float | None = None,
    status: str = ChatSession.Status.ENDED,
    rollout_arm: str = "",
    rating_stars: int | None = None,
    reply_fields: dict | None = None,
) -> ChatSession:
    """A session with (user text, Ari reply) turns."""
    session = ChatSession.objects.create(
        user=user or make_user("enduser"),
        session_type="check_in",
        status=status,
        flagged=flagged,
        max_risk_level=max_risk_level,
        min_safety_confidence=min_safety_confidence,
        rollout_arm=rollout_arm,
        rating_stars=rating_stars,
    )
    turns = turns or [
        ("I have been feeling low all week.", "That sounds heavy. Thank you for telling me."),
        ("Work keeps piling up.", "It makes sense you feel stretched. What weighs most?"),
    ]
    levels = risk_levels or ["low"] * len(turns)
    for (user_text, reply_text), level in zip(turns, levels, strict=False):
        user_message = make_message(
            session,
            "user",
            user_text,
            risk_level=level,
            risk_score=0.1,
        )
        fields = {
            "intent": "validate",
            "intent_score": 0.8,
            "filter_hits": [],
            "latency_ms": {"safety": 5, "generate": 40, "total": 50},
            "model_versions": {
                "safety": "safety-v1",
                "intent": "intent-v1",
                "generator": "approved",
            },
            "provenance": {"backend": "approved", "dialogue_id": 1},
            **(reply_fields or {}),
        }
        make_message(session, "assistant", reply_text, reply_to=user_message, **fields)
    return session


def make_escalation(session: ChatSession) -> Escalation:
    message = session.messages.filter(role="user").first()
    return Escalation.objects.create(session=session, message=message)


def review_item(session: ChatSession, *, required: int = 1, priority: float = 3.0) -> WorkItem:
    return WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW,
        reason=WorkItem.Reason.SAMPLE,
        priority=priority,
        required_reviews=required,
        session=session,
    )


def label_item(
    kind: str = WorkItem.Kind.SAFETY,
    *,
    text: str = "I feel like nothing will ever get better.",
    required: int = 1,
    priority: float = 0.5,
    suggestion: dict | None = None,
    message: Message | None = None,
) -> WorkItem:
    return WorkItem.objects.create(
        kind=kind,
        reason=WorkItem.Reason.IMPORTED if message is None else WorkItem.Reason.UNCERTAIN,
        priority=priority,
        required_reviews=required,
        text="" if message else text,
        text_role="assistant" if kind == WorkItem.Kind.INTENT and not message else "user",
        message=message,
        suggestion=suggestion or {},
        source="test" if message is None else "production",
        external_id="" if message else f"t{next(_counter)}",
    )


def preference_item(*, texts: tuple[str, ...] = ("Reply A.", "Reply B.", "Reply C."), required=1):
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.PREFERENCE,
        reason=WorkItem.Reason.IMPORTED,
        priority=0.5,
        required_reviews=required,
        context=[{"role": "user", "content": "I keep replaying the argument with my sister."}],
        source="test",
        external_id=f"p{next(_counter)}",
    )
    for i, text in enumerate(texts):
        PreferenceCandidate.objects.create(
            item=item, position=i, text=text, meta={"style": f"s{i}"}
        )
    return item


def dialogue(
    *, state: str = SeedDialogue.State.DRAFT, author=None, title: str = "Overwhelm at work"
) -> SeedDialogue:
    return SeedDialogue.objects.create(
        title=title,
        messages=[
            {"role": "user", "content": "Everything at work feels like too much."},
            {
                "role": "assistant",
                "content": "That sounds exhausting. It makes sense you feel stretched thin. "
                "Would you like to look at what weighs most, together?",
            },
        ],
        state=state,
        created_by=author,
        updated_at=timezone.now(),
    )
