"""One domain error type and the DRF exception handler that turns it into a clear 400."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A domain rule said no. ``message`` is safe to show to the user."""

    def __init__(self, message: str, *, extra: dict | None = None, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.status_code = status_code


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "extra": exc.extra}, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _first_message(response.data), "errors": response.data}
        response.status_code = status.HTTP_400_BAD_REQUEST
    return response


def _first_message(data) -> str:
    """A one-line summary of a DRF validation error tree: 'text: This field is required.'"""
    if isinstance(data, dict):
        for key, value in data.items():
            inner = _first_message(value)
            return inner if key in ("non_field_errors", "detail") else f"{key}: {inner}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)
