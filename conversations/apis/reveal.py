"""Staff reveal of a message's raw text, with a reason (audited)."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from conversations.apis.common import BAD_INPUT, NOT_FOUND
from conversations.models import (
    Message,
)
from conversations.services import (
    transcript_reveal,
)
from conversations.services.privacy import REVEAL_REASON_MAX_CHARS, REVEAL_REASON_MIN_CHARS


@extend_schema_serializer(component_name="RevealedMessage")
class RevealedMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Message.Role.choices)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class TranscriptRevealApi(ClinicianApi):
    """A session's unmasked text, for a reason (required; kept in the audit log with the
    session id as ``transcript.reveal``). Every other staff view shows masked text."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            min_length=REVEAL_REASON_MIN_CHARS,
            max_length=REVEAL_REASON_MAX_CHARS,
            help_text="Why the unmasked text is needed (kept in the audit log).",
        )

    class OutputSerializer(serializers.Serializer):
        session_id = serializers.IntegerField(source="pk")
        summary = serializers.CharField(allow_blank=True)
        previous_summary = serializers.CharField(allow_blank=True)
        rating_comment = serializers.CharField(allow_blank=True)
        messages = RevealedMessageSerializer(many=True, source="messages.all")

    @extend_schema(
        operation_id="transcripts_reveal",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        tags=["privacy"],
    )
    def post(self, request, session_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = transcript_reveal(
            actor=request.user,
            session_id=session_id,
            reason=serializer.validated_data["reason"],
        )
        return Response(self.OutputSerializer(session).data)
