"""The audit trail (admins only)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from ari_review.api.base import AdminApi
from evaluation.selectors.audit import audit_events_list


class AuditEventListApi(AdminApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        actor = serializers.CharField(source="actor_name")
        action = serializers.CharField()
        object_type = serializers.CharField()
        object_id = serializers.CharField()
        before = serializers.JSONField(allow_null=True)
        after = serializers.JSONField(allow_null=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, description="Action prefix, e.g. dialogue."),
            OpenApiParameter("actor", str),
            OpenApiParameter("object_type", str),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        qs = audit_events_list(
            action=request.query_params.get("action", ""),
            actor=request.query_params.get("actor", ""),
            object_type=request.query_params.get("object_type", ""),
        )
        return self.paginate(qs, self.OutputSerializer)
