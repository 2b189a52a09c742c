"""Who is making the current request, for audit events recorded where no request is at hand
(signal receivers: role and permission changes made in the Django admin, for example)."""

from __future__ import annotations

from contextvars import ContextVar

_request: ContextVar = ContextVar("ari_audit_request", default=None)


class AuditActorMiddleware:
    """Remembers the request for ``request_actor`` while it is handled; after
    AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def request_actor():
    """The signed-in user of the request being handled, or None (shell, Celery, migrations)."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "is_authenticated", False) else None
