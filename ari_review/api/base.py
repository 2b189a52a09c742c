"""Base classes every API view inherits, so no view can forget authentication or its role.

Anonymous requests get 401 (token auth advertises ``WWW-Authenticate``) or 403; a signed-in user
with the wrong role gets 403.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from ari_review.api.pagination import DefaultPagination
from ari_review.api.permissions import HasAnyRole, IsAdmin, IsClinician, IsEndUser


class BaseApi(APIView):
    permission_classes = [IsAuthenticated]
    # None on views that answer a plain array (no paginate()).
    pagination_class: type[DefaultPagination] | None = DefaultPagination

    def __init_subclass__(cls, **kwargs):
        """Name nested serializers after their view in the OpenAPI schema
        (``SessionCreateInput`` rather than many clashing ``Input`` components)."""
        super().__init_subclass__(**kwargs)
        for attr, value in list(vars(cls).items()):
            if isinstance(value, type) and issubclass(value, serializers.BaseSerializer):
                name = cls.__name__.removesuffix("Api") + attr.removesuffix("Serializer")
                extend_schema_serializer(component_name=name)(value)

    def throttled(self, request, wait):
        """Over a throttle_scope's rate (ari_review/throttles.py): 429, Retry-After, a message."""
        from ari_review.throttles import RateLimited

        raise RateLimited(wait, scope=getattr(self, "throttle_scope", ""))

    def paginate(self, queryset, serializer_class, context=None):
        """Page a queryset and return the paginated response of ``serializer_class``;
        ``context(page)``, if given, is the serializer's context for the page's rows (what is
        read for the page at once, not per row)."""
        if self.pagination_class is None:
            raise TypeError(f"{type(self).__name__} has no pagination_class to paginate with")
        paginator = self.pagination_class()
        page: list[Any] | None = paginator.paginate_queryset(queryset, self.request, view=self)
        extra = {"context": context(page or [])} if context else {}
        return paginator.get_paginated_response(serializer_class(page, many=True, **extra).data)


class EndUserApi(BaseApi):
    permission_classes = [IsAuthenticated, IsEndUser]


class ClinicianApi(BaseApi):
    permission_classes = [IsAuthenticated, IsClinician]


class AdminApi(BaseApi):
    permission_classes = [IsAuthenticated, IsAdmin]


class AnyRoleApi(BaseApi):
    permission_classes = [IsAuthenticated, HasAnyRole]
