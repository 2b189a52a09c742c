"""The end user's chat preferences."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from conversations.apis.common import BAD_INPUT, PreferencesSerializer
from conversations.selectors import (
    chat_preferences_get,
)
from conversations.services import (
    chat_preferences_update,
)


class ChatPreferencesApi(EndUserApi):
    """The user's default preferences for new sessions (length, tone)."""

    @extend_schema(
        operation_id="chat_preferences_retrieve",
        responses={200: PreferencesSerializer},
        tags=["chat"],
    )
    def get(self, request):
        return Response(chat_preferences_get(user=request.user))

    @extend_schema(
        operation_id="chat_preferences_update",
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, 400: BAD_INPUT},
        tags=["chat"],
    )
    def put(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(chat_preferences_update(user=request.user, **serializer.validated_data))
