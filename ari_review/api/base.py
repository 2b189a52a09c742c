"""Base classes every API view inherits, so no view can forget authentication or its role.

Anonymous requests get 401 (token auth advertises ``WWW-Authenticate``) or 403; a signed-in user
with the wrong role gets 403.
"""

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from ari_review.api.pagination import DefaultPagination
from ari_review.api.permissions import IsAdmin, IsClinician, IsEndUser


class BaseApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = DefaultPagination

    def paginate(self, queryset, serializer_class):
        """Page a queryset and return the paginated response of ``serializer_class``."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class EndUserApi(BaseApi):
    permission_classes = [IsAuthenticated, IsEndUser]


class ClinicianApi(BaseApi):
    permission_classes = [IsAuthenticated, IsClinician]


class AdminApi(BaseApi):
    permission_classes = [IsAuthenticated, IsAdmin]
