"""Clinician alerts: the list and marking one read."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from conversations.apis.common import NOT_FOUND
from conversations.models import (
    ClinicianAlert,
)
from conversations.selectors import (
    clinician_alert_list,
)
from conversations.services import (
    clinician_alert_mark_read,
)


class ClinicianAlertListApi(ClinicianApi):
    """The signed-in clinician's in-app escalation alerts (unread first; ``?unread=1`` filters)."""

    class OutputSerializer(serializers.ModelSerializer):
        session_id = serializers.IntegerField(source="escalation.session_id")
        escalation_status = serializers.CharField(source="escalation.status")

        class Meta:
            model = ClinicianAlert
            fields = (
                "id",
                "escalation_id",
                "escalation_status",
                "session_id",
                "created_at",
                "read_at",
            )

    @extend_schema(
        operation_id="clinician_alerts_list",
        parameters=[OpenApiParameter("unread", bool, required=False)],
        responses={200: OutputSerializer(many=True)},
        tags=["alerts"],
    )
    def get(self, request):
        unread = request.query_params.get("unread") in ("1", "true", "yes")
        alerts = clinician_alert_list(user=request.user, unread_only=unread)
        return self.paginate(alerts, self.OutputSerializer)


class ClinicianAlertReadApi(ClinicianApi):
    """Mark one of my alerts as read."""

    @extend_schema(
        operation_id="clinician_alerts_read",
        request=None,
        responses={200: ClinicianAlertListApi.OutputSerializer, 404: NOT_FOUND},
        tags=["alerts"],
    )
    def post(self, request, alert_id):
        alert = ClinicianAlert.objects.select_related("escalation").filter(pk=alert_id).first()
        if alert is None:
            raise Http404("No such alert.")
        alert = clinician_alert_mark_read(alert=alert, user=request.user)
        return Response(ClinicianAlertListApi.OutputSerializer(alert).data)
