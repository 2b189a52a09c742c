"""What the chat API's views share: the OpenAPI pieces, the serializers of sessions, messages,
resources and preferences, and the payloads built without a serializer's per-field overhead."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_serializer,
)
from rest_framework import serializers

from conversations.flows import STEP_LABELS
from conversations.models import (
    ChatSession,
    Message,
    SessionLength,
    Tone,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (e.g. a UUID) per message. Retrying a send with the same key returns "
        "the first result instead of running a second turn (header Idempotent-Replayed: true)."
    ),
)
NOT_FOUND = OpenApiResponse(description="No such session (or not yours).")
BAD_INPUT = OpenApiResponse(description="Bad input; `detail` says what is wrong.")


@extend_schema_serializer(component_name="CrisisResource")
class ResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    contact = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    sms = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    hours = serializers.CharField()
    source_url = serializers.CharField()
    last_verified = serializers.CharField()


@extend_schema_serializer(component_name="ChatPreferences")
class PreferencesSerializer(serializers.Serializer):
    session_length = serializers.ChoiceField(choices=SessionLength.choices, required=False)
    tone = serializers.ChoiceField(choices=Tone.choices, required=False)


@extend_schema_serializer(component_name="ChatMessage")
class MessageOutputSerializer(serializers.ModelSerializer):
    resources = ResourceSerializer(many=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "role",
            "text",
            "created_at",
            "risk_level",
            "intent",
            "emergency",
            "flow_step",
            "resources",
            "suggested_replies",
        )


@extend_schema_serializer(component_name="ChatSession")
class SessionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    flow_step_label = serializers.SerializerMethodField()
    preferences = PreferencesSerializer()

    class Meta:
        model = ChatSession
        fields: tuple[str, ...] = (
            "id",
            "session_type",
            "status",
            "flow_step",
            "flow_step_label",
            "preferences",
            "safety_mode",
            "previous_summary",
            "summary",
            "rating_stars",
            "rating_comment",
            "created_at",
            "ended_at",
        )

    def get_flow_step_label(self, obj) -> str:
        return STEP_LABELS.get(obj.flow_step, "")


# Response bodies built as plain dicts (the chat turn's hot path), field for field what the
# serializers above render: tests/conversations/test_api.py compares the two.
_DATETIME = serializers.DateTimeField()
_RESOURCE_FIELDS = tuple(ResourceSerializer().fields)
_PREFERENCE_FIELDS = tuple(PreferencesSerializer().fields)


def iso_datetime(value) -> str | None:
    return _DATETIME.to_representation(value)


def text_or_none(value) -> str | None:
    return None if value is None else str(value)


def resource_payload(resource: dict) -> dict:
    payload: dict[str, str | int | None] = {
        name: text_or_none(resource[name]) for name in _RESOURCE_FIELDS
    }
    payload["id"] = None if resource["id"] is None else int(resource["id"])
    return payload


def preferences_payload(preferences) -> dict | None:
    if preferences is None:
        return None
    return {name: preferences[name] for name in _PREFERENCE_FIELDS if name in preferences}


def session_payload(session: ChatSession) -> dict:
    return {
        "id": str(session.public_id),
        "session_type": session.session_type,
        "status": session.status,
        "flow_step": session.flow_step,
        "flow_step_label": STEP_LABELS.get(session.flow_step, ""),
        "preferences": preferences_payload(session.preferences),
        "safety_mode": bool(session.safety_mode),
        "previous_summary": session.previous_summary,
        "summary": session.summary,
        "rating_stars": session.rating_stars,
        "rating_comment": session.rating_comment,
        "created_at": iso_datetime(session.created_at),
        "ended_at": iso_datetime(session.ended_at),
    }


def user_message_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "text": message.text,
        "created_at": iso_datetime(message.created_at),
        "risk_level": message.risk_level,
    }


def reply_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "text": message.text,
        "intent": message.intent,
        "risk_level": message.risk_level,
        "emergency": bool(message.emergency),
        "flow_step": message.flow_step,
        "resources": (
            None if message.resources is None else [resource_payload(r) for r in message.resources]
        ),
        "suggested_replies": list(message.suggested_replies or []),
        "created_at": iso_datetime(message.created_at),
    }
