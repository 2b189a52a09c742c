"""Computed metrics."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from ari_review.api.base import ClinicianApi
from ari_review.api.errors import ApplicationError
from evaluation.selectors.metrics import metric_values_list


class MetricListApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        day = serializers.DateField()
        model_version = serializers.CharField(help_text='"" means all versions.')
        rollout_arm = serializers.CharField(help_text='"" means all arms.')
        value = serializers.FloatField(allow_null=True)
        numerator = serializers.FloatField()
        denominator = serializers.FloatField()

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, description="Days back (default 30)."),
            OpenApiParameter("name", str),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        try:
            days = max(1, min(365, int(request.query_params.get("days", 30))))
        except ValueError:
            raise ApplicationError("days must be a whole number.") from None
        qs = metric_values_list(days=days, name=request.query_params.get("name", ""))
        return self.paginate(qs, self.OutputSerializer)
