"""Role-aware navigation: each role sees only the links it may use."""

from django.urls import NoReverseMatch, reverse

from ari_review.roles import ADMIN, CLINICIAN, ENDUSER, user_has_role

# (label, url name, roles that see it). Entries whose URL is not installed are skipped.
NAVIGATION = (
    ("Chat", "conversations:chat", (ENDUSER,)),
    ("My sessions", "conversations:session-list", (ENDUSER,)),
    ("Your data", "conversations:my-data", (ENDUSER,)),
    ("Review queue", "evaluation:review-queue", (CLINICIAN, ADMIN)),
    ("Safety labels", "evaluation:safety-labelling", (CLINICIAN, ADMIN)),
    ("Intent labels", "evaluation:intent-labelling", (CLINICIAN, ADMIN)),
    ("Seed dialogues", "evaluation:dialogue-list", (CLINICIAN, ADMIN)),
    ("Comparisons", "evaluation:preference-queue", (CLINICIAN, ADMIN)),
    ("Agreement", "evaluation:agreement", (CLINICIAN, ADMIN)),
    ("Risk signals", "evaluation:risk-signals", (CLINICIAN, ADMIN)),
    ("Dashboards", "evaluation:dashboards", (CLINICIAN, ADMIN)),
    ("Datasets", "evaluation:datasets", (CLINICIAN, ADMIN)),
    ("Models", "training_jobs:model-list", (ADMIN,)),
    ("Audit", "evaluation:audit-log", (ADMIN,)),
    ("Django admin", "admin:index", (ADMIN,)),
    ("API docs", "api-docs", (CLINICIAN, ADMIN)),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "alert_bell": None}
    links = []
    for label, url_name, roles in NAVIGATION:
        if not user_has_role(user, *roles):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        links.append({"label": label, "url": url, "active": request.path.startswith(url)})
    return {"nav_links": links, "alert_bell": _alert_bell(user)}


def _alert_bell(user) -> dict | None:
    """The alert bell's links for clinicians and admins (``templates/base.html``): the history
    page and the small summary the page polls (``static/js/alert_bell.js``)."""
    if not user_has_role(user, CLINICIAN, ADMIN):
        return None
    try:
        return {"page": reverse("evaluation:alerts"), "api": reverse("eval-alert-summary")}
    except NoReverseMatch:
        return None
