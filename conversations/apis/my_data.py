"""An end user's own data: download it, erase it."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import EndUserApi
from conversations.apis.common import BAD_INPUT
from conversations.services import (
    user_data_erase,
    user_data_export,
)


@extend_schema_serializer(component_name="MyDataMessage")
class MyDataMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    risk_level = serializers.CharField(allow_blank=True)
    emergency = serializers.BooleanField()
    flow_step = serializers.CharField(allow_blank=True)


@extend_schema_serializer(component_name="MyDataEscalation")
class MyDataEscalationSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    status = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MyDataSession")
class MyDataSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    session_type = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    flow_step = serializers.CharField(allow_blank=True)
    preferences = serializers.DictField(child=serializers.CharField())
    summary = serializers.CharField(allow_blank=True)
    previous_summary = serializers.CharField(allow_blank=True)
    rating_stars = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField(allow_blank=True)
    rated_at = serializers.DateTimeField(allow_null=True)
    safety_mode = serializers.BooleanField()
    flagged = serializers.BooleanField()
    max_risk_level = serializers.CharField()
    escalations = MyDataEscalationSerializer(many=True)
    messages = MyDataMessageSerializer(many=True)


@extend_schema_serializer(component_name="MyDataAccount")
class MyDataAccountSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    date_joined = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MyDataPreferences")
class MyDataPreferencesSerializer(serializers.Serializer):
    session_length = serializers.CharField()
    tone = serializers.CharField()
    updated_at = serializers.DateTimeField()


class MyDataApi(EndUserApi):
    """Download everything the chat stores about me (JSON): account, default preferences, and
    every session with its messages, my rating and its escalations. Audited (counts only)."""

    throttle_scope = "export"  # ARI_THROTTLE_EXPORT

    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField()
        generated_at = serializers.DateTimeField()
        account = MyDataAccountSerializer()
        preferences = MyDataPreferencesSerializer(allow_null=True)
        sessions = MyDataSessionSerializer(many=True)

    @extend_schema(
        operation_id="me_data_retrieve",
        responses={200: OutputSerializer},
        tags=["privacy"],
    )
    def get(self, request):
        # The service's dict is already JSON-ready, field for field what OutputSerializer says.
        return Response(user_data_export(user=request.user, via="api"))


class MyDataEraseApi(EndUserApi):
    """Erase my data, at once and for good: sessions, messages, ratings, preferences (the account
    stays). A session with an open escalation is kept until the care team closes it. Send
    ``{"confirm": true}``. Audited (ids and counts, never text)."""

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(
            help_text="Must be true: erasing cannot be undone.",
        )

        def validate_confirm(self, value):
            if value is not True:
                raise serializers.ValidationError("Send confirm: true to erase your data.")
            return value

    class OutputSerializer(serializers.Serializer):
        sessions_erased = serializers.IntegerField()
        messages_erased = serializers.IntegerField()
        sessions_kept = serializers.IntegerField(
            help_text="Sessions with an open escalation, kept until the care team closes it."
        )
        preferences_erased = serializers.BooleanField()
        exemplars_erased = serializers.IntegerField()
        clinician_labels_erased = serializers.IntegerField()

    @extend_schema(
        operation_id="me_data_erase",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT},
        tags=["privacy"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = user_data_erase(user=request.user, via="api")
        return Response(self.OutputSerializer(result.as_dict()).data)
