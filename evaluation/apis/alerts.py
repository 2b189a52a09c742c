"""Monitoring alerts: the bell's summary (polled by every clinician and admin page),
acknowledging and resolving."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from evaluation.models import MonitoringAlert
from evaluation.selectors.alerts import alert_summary
from evaluation.services import alert_acknowledge, alert_resolve


class AlertOutputSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.key")
    status = serializers.CharField(help_text="open, acknowledged or resolved.")

    class Meta:
        model = MonitoringAlert
        fields = (
            "id",
            "rule",
            "subject",
            "status",
            "title",
            "value",
            "threshold",
            "link",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
        )


class AlertSummaryApi(ClinicianApi):
    """What the navigation's alert bell shows; small, so every page can poll it."""

    class OutputSerializer(serializers.Serializer):
        class LatestSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()
            opened_at = serializers.DateTimeField()
            link = serializers.CharField()

        open = serializers.IntegerField(help_text="Alerts nobody has acknowledged yet.")
        unresolved = serializers.IntegerField(help_text="Open or acknowledged alerts.")
        escalations_unread = serializers.IntegerField(
            help_text="My unread in-app escalation alerts."
        )
        latest = LatestSerializer(many=True)

    @extend_schema(operation_id="alerts_summary", responses=OutputSerializer, tags=["alerts"])
    def get(self, request):
        summary = alert_summary(user=request.user)
        response = Response(self.OutputSerializer(summary).data)
        response["Cache-Control"] = "no-store"
        return response


class AlertAcknowledgeApi(ClinicianApi):
    @extend_schema(
        operation_id="alerts_acknowledge",
        request=None,
        responses=AlertOutputSerializer,
        tags=["alerts"],
    )
    def post(self, request, alert_id):
        alert = get_object_or_404(MonitoringAlert, pk=alert_id)
        alert = alert_acknowledge(alert=alert, user=request.user)
        return Response(AlertOutputSerializer(alert).data)


class AlertResolveApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        operation_id="alerts_resolve",
        request=InputSerializer,
        responses=AlertOutputSerializer,
        tags=["alerts"],
    )
    def post(self, request, alert_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = get_object_or_404(MonitoringAlert, pk=alert_id)
        alert = alert_resolve(
            alert=alert, user=request.user, note=data.validated_data.get("note", "")
        )
        return Response(AlertOutputSerializer(alert).data)
