"""Test data built with factory_boy: users, chat sessions and messages, escalations and the
workspace's queue items and seed dialogues, written straight to the models (the chat pipeline is
not involved; a test of the pipeline plays turns through it instead).

Each factory's defaults make a valid row; a test names only what it is about:
``ChatSessionFactory(risk_levels=["high", "low"])``, ``LabelItemFactory(kind="intent")``.
High-risk examples express distress only, never method details.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from factory.django import DjangoModelFactory

from ari_review.services import user_upsert
from conversations.models import ChatSession, Escalation, Message
from evaluation.models import PreferenceCandidate, SeedDialogue, WorkItem

PASSWORD = "pw-for-tests-123"  # noqa: S105 - the suite's password (tests/conftest.py)

DEFAULT_TURNS = [
    ("I have been feeling low all week.", "That sounds heavy. Thank you for telling me."),
    ("Work keeps piling up.", "It makes sense you feel stretched. What weighs most?"),
]


class UserFactory(factory.Factory):
    """A user holding one role, made the way the product makes them (``user_upsert``: the role's
    group, staff for admins). An existing username is updated, as ``user_upsert`` does."""

    class Meta:
        model = User

    role = "enduser"
    username = factory.LazyAttributeSequence(lambda o, n: f"{o.role}_{n}")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return user_upsert(**kwargs).user

    @classmethod
    def _build(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        raise TypeError("UserFactory only creates (user_upsert writes the role's group).")


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    session = factory.SubFactory("tests.factories.ChatSessionFactory", turns=[])
    role = "user"
    text = "I have been feeling low all week."


class ChatSessionFactory(DjangoModelFactory):
    """An ended check-in with (user text, Ari reply) turns (``turns``; two by default, ``[]`` for
    none). ``risk_levels`` gives each user message its level (``low`` by default);
    ``reply_fields`` overrides fields of every reply (intent, provenance, model versions...)."""

    class Meta:
        model = ChatSession

    user = factory.SubFactory(UserFactory, role="enduser")
    session_type = "check_in"
    status = ChatSession.Status.ENDED
    flagged = False
    max_risk_level = "none"

    @classmethod
    def _create(
        cls,
        model_class: type[ChatSession],
        *args: Any,
        turns: list[tuple[str, str]] | None = None,
        risk_levels: list[str] | None = None,
        reply_fields: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ChatSession:
        session = super()._create(model_class, *args, **kwargs)
        turns = DEFAULT_TURNS if turns is None else turns
        levels = risk_levels or ["low"] * len(turns)
        for (user_text, reply_text), level in zip(turns, levels, strict=False):
            user_message = MessageFactory(
                session=session, role="user", text=user_text, risk_level=level, risk_score=0.1
            )
            MessageFactory(
                session=session,
                role="assistant",
                text=reply_text,
                reply_to=user_message,
                **{
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
                },
            )
        return session


class EscalationFactory(DjangoModelFactory):
    """An escalation of a session, on its first user message."""

    class Meta:
        model = Escalation

    session = factory.SubFactory(ChatSessionFactory)
    message = factory.LazyAttribute(lambda o: o.session.messages.filter(role="user").first())


class ReviewItemFactory(DjangoModelFactory):
    """A sampled session in the review queue."""

    class Meta:
        model = WorkItem

    kind = WorkItem.Kind.REVIEW
    reason = WorkItem.Reason.SAMPLE
    priority = 3.0
    required_reviews = 1
    session = factory.SubFactory(ChatSessionFactory)


class LabelItemFactory(DjangoModelFactory):
    """A text to label (safety by default): imported text, or a stored ``message`` (then the
    item is the uncertain production message and carries no text of its own)."""

    class Meta:
        model = WorkItem

    kind = WorkItem.Kind.SAFETY
    message = None
    priority = 0.5
    required_reviews = 1
    suggestion = factory.LazyFunction(dict)
    reason = factory.LazyAttribute(
        lambda o: WorkItem.Reason.IMPORTED if o.message is None else WorkItem.Reason.UNCERTAIN
    )
    text = factory.LazyAttribute(
        lambda o: "" if o.message else "I feel like nothing will ever get better."
    )
    text_role = factory.LazyAttribute(
        lambda o: "assistant" if o.kind == WorkItem.Kind.INTENT and not o.message else "user"
    )
    source = factory.LazyAttribute(lambda o: "test" if o.message is None else "production")
    external_id = factory.LazyAttributeSequence(lambda o, n: "" if o.message else f"t{n}")


class PreferenceItemFactory(DjangoModelFactory):
    """A comparison item with one candidate reply per text of ``texts`` (three by default)."""

    class Meta:
        model = WorkItem
        skip_postgeneration_save = True

    kind = WorkItem.Kind.PREFERENCE
    reason = WorkItem.Reason.IMPORTED
    priority = 0.5
    required_reviews = 1
    context = factory.LazyFunction(
        lambda: [{"role": "user", "content": "I keep replaying the argument with my sister."}]
    )
    source = "test"
    external_id = factory.Sequence(lambda n: f"p{n}")

    @factory.post_generation
    def texts(self, create: bool, extracted: tuple[str, ...] | None, **kwargs: Any) -> None:
        for i, text in enumerate(extracted or ("Reply A.", "Reply B.", "Reply C.")):
            PreferenceCandidate.objects.create(
                item=self, position=i, text=text, meta={"style": f"s{i}"}
            )


class SeedDialogueFactory(DjangoModelFactory):
    """A two-message seed dialogue, a draft by default."""

    class Meta:
        model = SeedDialogue

    title = "Overwhelm at work"
    messages = factory.LazyFunction(
        lambda: [
            {"role": "user", "content": "Everything at work feels like too much."},
            {
                "role": "assistant",
                "content": "That sounds exhausting. It makes sense you feel stretched thin. "
                "Would you like to look at what weighs most, together?",
            },
        ]
    )
    state = SeedDialogue.State.DRAFT
    created_by = None
    updated_at = factory.LazyFunction(timezone.now)
