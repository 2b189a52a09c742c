"""Chat sessions: list and start, one session, end it, rate it."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from conversations.apis.common import (
    BAD_INPUT,
    NOT_FOUND,
    MessageOutputSerializer,
    PreferencesSerializer,
    SessionOutputSerializer,
    session_payload,
)
from conversations.models import (
    SessionType,
)
from conversations.selectors import (
    session_get_for_user,
    session_list_for_user,
    session_messages,
)
from conversations.services import (
    session_create,
    session_end,
    session_rate,
)


class SessionsApi(EndUserApi):
    """List the user's sessions, or start one."""

    class ListOutputSerializer(SessionOutputSerializer):
        message_count = serializers.IntegerField()

        class Meta(SessionOutputSerializer.Meta):
            fields = (*SessionOutputSerializer.Meta.fields, "message_count")

    class InputSerializer(serializers.Serializer):
        session_type = serializers.ChoiceField(choices=SessionType.choices)
        preferences = PreferencesSerializer(required=False)

    @extend_schema(
        operation_id="sessions_list",
        responses={200: ListOutputSerializer(many=True)},
        tags=["chat"],
    )
    def get(self, request):
        return self.paginate(session_list_for_user(user=request.user), self.ListOutputSerializer)

    @extend_schema(
        operation_id="sessions_create",
        request=InputSerializer,
        responses={201: SessionOutputSerializer, 400: BAD_INPUT},
        tags=["chat"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_create(
            user=request.user,
            accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
            **serializer.validated_data,
        )
        return Response(session_payload(session), status=status.HTTP_201_CREATED)


class SessionDetailApi(EndUserApi):
    """One session with its transcript."""

    class OutputSerializer(SessionOutputSerializer):
        messages = serializers.SerializerMethodField()

        class Meta(SessionOutputSerializer.Meta):
            fields = (*SessionOutputSerializer.Meta.fields, "messages")

        @extend_schema_field(MessageOutputSerializer(many=True))
        def get_messages(self, obj):
            return MessageOutputSerializer(session_messages(session=obj), many=True).data

    @extend_schema(
        operation_id="sessions_retrieve",
        responses={200: OutputSerializer, 404: NOT_FOUND},
        tags=["chat"],
    )
    def get(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        return Response(self.OutputSerializer(session).data)


class SessionEndApi(EndUserApi):
    """End a session (stores the summary the next session receives). Ending twice is fine."""

    @extend_schema(
        operation_id="sessions_end",
        request=None,
        responses={200: SessionOutputSerializer, 404: NOT_FOUND},
        tags=["chat"],
    )
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        return Response(session_payload(session_end(session=session)))


class SessionRatingApi(EndUserApi):
    """Rate an ended session from 1 to 5 stars, with an optional comment."""

    class InputSerializer(serializers.Serializer):
        stars = serializers.IntegerField(
            min_value=1,
            max_value=5,
            error_messages={
                "min_value": "stars must be from 1 to 5.",
                "max_value": "stars must be from 1 to 5.",
                "invalid": "stars must be a whole number from 1 to 5.",
            },
        )
        comment = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(
        operation_id="sessions_rate",
        request=InputSerializer,
        responses={200: SessionOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        tags=["chat"],
    )
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_rate(session=session, **serializer.validated_data)
        return Response(session_payload(session))
