"""Rate limits per scope (``chat``, ``login``, ``export``, ``import``), for API views and pages.

An API view opts in with ``throttle_scope = "chat"`` (DRF's scoped throttle); the pages and
admin actions that do the same work are mapped to a scope in ``PAGE_SCOPES`` below and share the
same budget, counted per user (per client address when anonymous) in Django's default cache.
Over the limit: 429 with ``Retry-After`` and a message saying how long to wait.

A cache that fails lets the request through, logged: a Redis outage must never stop a chat turn,
least of all one that needs the emergency reply.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

# Page URL name -> scope, for POSTs (the API views name their scope themselves).
PAGE_SCOPES = {
    "conversations:send": "chat",
    "evaluation:dialogue-import": "import",
    "admin:evaluation_seeddialogue_import": "import",
}
# Django admin actions whose name starts with this are exports.
ADMIN_EXPORT_ACTION_PREFIX = "export"

MESSAGES = {
    "chat": "You're sending messages faster than Ari can answer.",
    "login": "Too many sign-in attempts from here.",
    "export": "Too many exports in a short time.",
    "import": "Too many imports in a short time.",
}


def client_ip(request) -> str:
    """The client's address: the socket's, or the one ``ARI_PROXY_COUNT`` trusted proxies saw
    (as DRF's ``NUM_PROXIES``), so that lockouts and limits key on the same address."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.ARI_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not count or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    if not addresses:
        return remote
    return addresses[-min(count, len(addresses))]


class RateLimited(exceptions.Throttled):
    default_detail = "Too many requests."
    extra_detail_singular = "Please wait {wait} second and try again."
    extra_detail_plural = "Please wait {wait} seconds and try again."

    def __init__(self, wait: float | None, *, scope: str = ""):
        super().__init__(wait=wait, detail=MESSAGES.get(scope, self.default_detail))


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, reading the rates at request time (``ARI_THROTTLE_RATES``) and
    failing open when the cache cannot be reached."""

    def get_rate(self):
        if self.scope is None:
            raise ImproperlyConfigured("No throttle rate for scope None")
        try:
            return settings.ARI_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate for scope {self.scope!r}") from None

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except ImproperlyConfigured:
            raise
        except Exception as exc:  # the cache is down or slow: never block on it
            _fail_open_log(getattr(self, "scope", ""), type(exc).__name__)
            return True


_FAIL_OPEN_LOG_EVERY_S = 10.0
_fail_open = {"logged_at": float("-inf"), "unlogged": 0}


def _fail_open_log(scope: str, error: str) -> None:
    """One warning per process every few seconds while the cache is down, with the count of
    unchecked requests since the last one (not one line per request of an outage)."""
    now = time.monotonic()
    if now - _fail_open["logged_at"] < _FAIL_OPEN_LOG_EVERY_S:
        _fail_open["unlogged"] += 1
        return
    logger.warning(
        "rate limit not checked: cache unavailable scope=%s (%s) unchecked_since_last=%s",
        scope,
        error,
        _fail_open["unlogged"],
    )
    _fail_open.update(logged_at=now, unlogged=0)


def throttle_check(request, *, scope: str) -> float | None:
    """None when ``request`` may go on in ``scope``; else the seconds to wait."""
    view = type("ScopedView", (), {"throttle_scope": scope})()
    throttle = ScopedThrottle()
    if throttle.allow_request(request, view):
        return None
    return throttle.wait() or 1.0


def _page_scope(request) -> str | None:
    if request.method != "POST" or request.resolver_match is None:
        return None
    name = request.resolver_match.view_name
    if name in PAGE_SCOPES:
        return PAGE_SCOPES[name]
    is_changelist = name.startswith("admin:") and name.endswith("_changelist")
    if is_changelist and request.POST.get("action", "").startswith(ADMIN_EXPORT_ACTION_PREFIX):
        return "export"
    return None


class PageThrottleMiddleware:
    """The rate limits of ``PAGE_SCOPES`` and of admin export actions, as a page: 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        scope = _page_scope(request)
        if scope is None:
            return None
        wait = throttle_check(request, scope=scope)
        if wait is None:
            return None
        seconds = max(1, math.ceil(wait))
        logger.info("rate limited scope=%s wait_s=%s", scope, seconds)
        response = render(
            request,
            "throttled.html",
            {"message": MESSAGES.get(scope, "Too many requests."), "wait": seconds},
            status=429,
        )
        response["Retry-After"] = str(seconds)
        return response
