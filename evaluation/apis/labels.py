"""Safety and intent labels of a work item."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ari_review.api.base import ClinicianApi
from conversations.models import Intent, RiskCategory, RiskLevel
from evaluation.apis.common import CreatedSerializer, Kind, created_response, item_or_404
from evaluation.models import Urgency
from evaluation.services import (
    intent_label_create,
    safety_label_create,
)


class SafetyLabelCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
        category = serializers.ChoiceField(choices=RiskCategory.choices, required=False, default="")
        urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default="none")
        suggestion_shown = serializers.BooleanField(required=False, default=False)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request, item_id: int):
        item = item_or_404(item_id, Kind.SAFETY)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = safety_label_create(item=item, clinician=request.user, **data.validated_data)
        return created_response(label, item)


class IntentLabelCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        intent = serializers.ChoiceField(choices=Intent.choices)
        suggestion_shown = serializers.BooleanField(required=False, default=False)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request, item_id: int):
        item = item_or_404(item_id, Kind.INTENT)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = intent_label_create(item=item, clinician=request.user, **data.validated_data)
        return created_response(label, item)
