"""The crisis-resource catalogue, and the trivial authenticated ping."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from ari_review.api.base import AnyRoleApi
from conversations.apis.common import ResourceSerializer
from conversations.selectors import (
    crisis_resource_snapshot,
    crisis_resources_list,
)


class CrisisResourceListApi(AnyRoleApi):
    """The crisis-resource catalogue for a locale (default: the installation's)."""

    pagination_class = None

    @extend_schema(
        operation_id="crisis_resources_list",
        parameters=[OpenApiParameter("locale", str, required=False)],
        responses={200: ResourceSerializer(many=True)},
        tags=["chat"],
    )
    def get(self, request):
        resources = crisis_resources_list(locale=request.query_params.get("locale"))
        return Response([crisis_resource_snapshot(r) for r in resources])


class PingApi(AnyRoleApi):
    """A trivial authenticated JSON endpoint (the benchmark's ceiling)."""

    @extend_schema(
        operation_id="ping",
        responses={200: inline_serializer("Ping", fields={"ok": serializers.BooleanField()})},
        tags=["chat"],
    )
    def get(self, request):
        return Response({"ok": True})
