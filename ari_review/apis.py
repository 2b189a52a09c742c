"""API tokens: sign in for a token, log out (revoke it), log out everywhere.

Tokens are django-rest-knox tokens: stored hashed, valid for ``ARI_API_TOKEN_TTL_HOURS``.
Sign-in goes through ``django.contrib.auth.authenticate`` with the request, so django-axes
counts failures and locks the account or address out (429, ``ari_review.views.login_lockout``)
exactly as on the login page; the ``login`` throttle scope limits requests per address.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ari_review.api.base import AnyRoleApi, BaseApi
from ari_review.api.errors import ApplicationError
from ari_review.services import api_token_create, api_token_revoke, api_tokens_revoke_all
from ari_review.two_factor import totp_api_check


class TokenCreateApi(BaseApi):
    """Exchange a username and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        otp_token = serializers.CharField(
            max_length=12,
            required=False,
            help_text="Code of the authenticator app (clinicians and admins with two-factor).",
        )

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Locked out or rate limited (see Retry-After)."),
        },
        tags=["auth"],
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request: django-axes flags a lockout on it for its middleware.
        otp_token = data.validated_data.pop("otp_token", None)
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise ApplicationError("Unable to sign in with this username and password.")
        totp_api_check(request=request._request, user=user, token=otp_token)
        issued = api_token_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        body = self.OutputSerializer({"token": issued.token, "expiry": issued.expiry}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(AnyRoleApi):
    """Log out: revoke the token this request was made with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        api_token_revoke(token=request.auth)
        user_logged_out.send(
            sender=request.user.__class__, request=request._request, user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAllApi(AnyRoleApi):
    """Log out everywhere: revoke every API token of the signed-in user."""

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        api_tokens_revoke_all(user=request.user)
        user_logged_out.send(
            sender=request.user.__class__, request=request._request, user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
