"""Rating a session (appropriateness and per-reply flags)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ari_review.api.base import ClinicianApi
from evaluation.apis.common import CreatedSerializer, Kind, created_response, item_or_404
from evaluation.models import Appropriateness, ReplyFlag
from evaluation.services import (
    ReplyInput,
    session_rating_create,
)


class SessionRatingCreateApi(ClinicianApi):
    class ReplySerializer(serializers.Serializer):
        message_id = serializers.IntegerField()
        flags = serializers.ListField(
            child=serializers.ChoiceField(choices=ReplyFlag.choices), required=False, default=list
        )
        validated = serializers.BooleanField(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        appropriateness = serializers.ChoiceField(choices=Appropriateness.choices)
        replies = serializers.ListField(child=serializers.DictField(), required=False, default=list)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

        def validate_replies(self, value):
            parsed = []
            for i, raw in enumerate(value):
                reply = SessionRatingCreateApi.ReplySerializer(data=raw)
                if not reply.is_valid():
                    raise serializers.ValidationError({str(i): reply.errors})
                parsed.append(reply.validated_data)
            return parsed

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request, item_id: int):
        item = item_or_404(item_id, Kind.REVIEW)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        rating = session_rating_create(
            item=item,
            clinician=request.user,
            appropriateness=v["appropriateness"],
            replies=[
                ReplyInput(r["message_id"], tuple(r.get("flags", ())), r.get("validated"))
                for r in v["replies"]
            ],
            note=v["note"],
        )
        return created_response(rating, item)
