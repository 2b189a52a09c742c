from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ari_review.health import degradation_probes_run
from ari_review.roles import ADMIN, CLINICIAN, ENDUSER, user_role
from ari_review.selectors import broker_health, database_health

# Where each role lands after login (pages may not exist yet while issues are in progress).
_ROLE_HOME: dict[str | None, str] = {ENDUSER: "/chat/", CLINICIAN: "/review/", ADMIN: "/models/"}


@require_GET
@never_cache
def healthz(request):
    """200 while the site can serve (database and broker up); ``status`` is ``degraded`` when
    a registered part fails (``ari_review.health``: the configured generator's circuit breaker
    is open and replies come from approved content)."""
    checks = {"database": database_health(), "broker": broker_health()}
    healthy = all(check.ok for check in checks.values())
    degradable = degradation_probes_run()
    serving = "ok" if all(part["ok"] for part in degradable.values()) else "degraded"
    body = {
        "status": serving if healthy else "unavailable",
        **{name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
        **degradable,
    }
    return JsonResponse(body, status=200 if healthy else 503)


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return render(request, "home.html", {"role_home": _ROLE_HOME.get(user_role(request.user))})


LOCKOUT_MESSAGE = "Too many failed sign-in attempts for this account or from this address."


def login_lockout(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): 429 with
    ``Retry-After``; JSON for the API, the lockout page otherwise. Names no account."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": f"{LOCKOUT_MESSAGE} Try again in {seconds // 60} minutes."}, status=429
        )
    else:
        context = {"message": LOCKOUT_MESSAGE, "minutes": seconds // 60}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def csrf_failure(request, reason=""):
    """A form sent from a page that was open too long, or from before a sign-in elsewhere:
    said in plain words with the way back (Django's reason is logged by Django, not shown)."""
    signed_in = request.user.is_authenticated
    return render(request, "csrf_failure.html", {"signed_in": signed_in}, status=403)
