"""Closing an escalation from the workspace."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from conversations.models import Escalation
from evaluation.services import (
    escalation_close,
)


class EscalationCloseApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, escalation_id: int):
        escalation = Escalation.objects.filter(pk=escalation_id).first()
        if escalation is None:
            raise Http404("No such escalation.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        escalation = escalation_close(
            escalation=escalation, clinician=request.user, note=data.validated_data["note"]
        )
        return Response(self.OutputSerializer(escalation).data)
