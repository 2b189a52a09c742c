"""Sending a message: one chat turn (idempotent by the ``Idempotency-Key`` header)."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from ari_review.api.errors import ApplicationError
from conversations.apis.common import (
    BAD_INPUT,
    IDEMPOTENCY_HEADER,
    NOT_FOUND,
    ResourceSerializer,
    SessionOutputSerializer,
    reply_payload,
    session_payload,
    user_message_payload,
)
from conversations.models import (
    ChatSession,
    Message,
)
from conversations.selectors import (
    session_get_for_user,
)
from conversations.services import (
    chat_turn_run,
)
from conversations.services.message_input import (
    MAX_MESSAGE_CHARS,
    message_text_clean,
    message_text_problem,
)


class MessageTextField(serializers.CharField):
    """A chat message's text, checked by the service's own rules (``message_text_clean``) before
    DRF's validators, so the API and the form say the same thing: a message over the limit is a
    400 naming the limit and its length (never truncated), control characters a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_MESSAGE_CHARS)  # for the schema; checked below first
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # Characters before the blank check: a text of only form feeds is not "empty".
        if isinstance(data, str) and (problem := message_text_problem(data)):
            raise serializers.ValidationError(problem)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        try:
            return message_text_clean(str(data))
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from None


class MessageCreateApi(EndUserApi):
    """Send a message and get Ari's reply (one chat turn)."""

    throttle_scope = "chat"  # ARI_THROTTLE_CHAT (ari_review/throttles.py)

    class InputSerializer(serializers.Serializer):
        text = MessageTextField(
            allow_blank=False,
            trim_whitespace=True,
            error_messages={
                "blank": "Message text must not be empty or only whitespace.",
                "required": "Message text is required.",
                "null": "Message text is required.",
            },
        )

    class UserMessageSerializer(serializers.ModelSerializer):
        class Meta:
            model = Message
            fields = ("id", "text", "created_at", "risk_level")

    class ReplySerializer(serializers.ModelSerializer):
        resources = ResourceSerializer(many=True)

        class Meta:
            model = Message
            fields = (
                "id",
                "text",
                "intent",
                "risk_level",
                "emergency",
                "flow_step",
                "resources",
                "suggested_replies",
                "created_at",
            )

    @extend_schema(
        operation_id="session_messages_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: inline_serializer(
                "ChatTurn",
                fields={
                    "user_message": UserMessageSerializer(),
                    "reply": ReplySerializer(),
                    "session": SessionOutputSerializer(),
                },
            ),
            400: BAD_INPUT,
            404: NOT_FOUND,
            422: OpenApiResponse(description="Idempotency-Key reused for different text."),
        },
        tags=["chat"],
    )
    def post(self, request, session_id):
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            # Someone else's session is a 404 whatever the body says.
            session_get_for_user(user=request.user, public_id=session_id)
            raise serializers.ValidationError(serializer.errors)
        # The turn looks the session up (404 for anyone else's) as it locks it.
        result = chat_turn_run(
            user=request.user,
            session_public_id=session_id,
            text=serializer.validated_data["text"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        session = result.session or ChatSession.objects.get(pk=result.user_message.session_id)
        # Plain dicts: the same fields and formats as the serializers declared above (the
        # schema), without their per-request overhead on the busiest endpoint.
        body = {
            "user_message": user_message_payload(result.user_message),
            "reply": reply_payload(result.reply),
            "session": session_payload(session),
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response
