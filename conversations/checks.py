"""System checks of the chat runtime (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError

from conversations.selectors import crisis_resources_unverified, oncall_recipients


@register("notifications", deploy=True)
def oncall_recipients_check(app_configs, databases=None, **kwargs) -> list[Warning]:
    """conversations.W001: escalations would e-mail no one (no ONCALL_EMAILS, no on-call user
    with an e-mail address)."""
    if settings.ONCALL_EMAILS:
        return []
    try:
        users_with_email = oncall_recipients().exclude(email="").exists()
    except DatabaseError:  # no database yet (a build step): the setting alone decides
        users_with_email = False
    if users_with_email:
        return []
    return [
        Warning(
            "Escalations will e-mail no one: ONCALL_EMAILS is empty and no active on-call "
            "clinician has an e-mail address.",
            hint=(
                "Set ONCALL_EMAILS (e.g. a pager address) or give the clinicians of the "
                f"'{settings.ARI_ONCALL_GROUP}' group (or, with that group empty, any active "
                "clinician) an e-mail address. Until then every escalation is recorded as "
                "'no one notified' and every admin gets an in-app alert."
            ),
            id="conversations.W001",
        )
    ]


@register("crisis_catalogue", deploy=True)
def crisis_catalogue_check(app_configs, databases=None, **kwargs) -> list[Warning]:
    """conversations.W002: active crisis-catalogue entries nobody on this installation has
    verified; conversations.W003: entries not verified for 12 months."""
    try:
        never_here, stale = crisis_resources_unverified()
    except DatabaseError:  # no database yet (a build step)
        return []
    warnings = []
    if never_here:
        warnings.append(
            Warning(
                f"{len(never_here)} crisis-line entr(y/ies) were never verified on this "
                f"installation ({', '.join(never_here[:12])}"
                f"{', ...' if len(never_here) > 12 else ''}).",
                hint=(
                    "Call or open each entry's source address, then use 'Mark as verified "
                    "today' in the admin (Crisis resources, filter 'Never verified here')."
                ),
                id="conversations.W002",
            )
        )
    if stale:
        warnings.append(
            Warning(
                f"{len(stale)} crisis-line entr(y/ies) not verified for 12 months "
                f"({', '.join(stale[:12])}{', ...' if len(stale) > 12 else ''}).",
                hint="Check them at their source addresses and mark them verified in the admin.",
                id="conversations.W003",
            )
        )
    return warnings
