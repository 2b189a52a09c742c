"""Response headers of every page and API response (static files, served earlier by WhiteNoise,
keep their own caching).

- ``Cache-Control: no-store`` unless the view chose its caching itself: transcripts, labels and
  API bodies carry what people wrote, and must not be kept by a browser or a proxy.
- ``Permissions-Policy`` (``ARI_PERMISSIONS_POLICY``): no camera, microphone, location...

``Content-Security-Policy`` comes from django-csp (``CONTENT_SECURITY_POLICY`` in settings:
scripts only from this site or with the request's nonce, styles only from this site) and
``Referrer-Policy`` from Django's ``SECURE_REFERRER_POLICY``.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings

_INLINE_STYLES = {"style-src": ["'unsafe-inline'"]}


def inline_styles_allowed(view):
    """For the few pages whose third-party code adds <style> elements at run time (plotly.js on
    the dashboards, Swagger UI on the API docs): styles only, in the enforced and the
    report-only policy alike; scripts stay nonce-or-self everywhere."""
    return csp_update(_INLINE_STYLES)(csp_update(_INLINE_STYLES, REPORT_ONLY=True)(view))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        if settings.ARI_PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.ARI_PERMISSIONS_POLICY
        return response
