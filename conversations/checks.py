"""System checks of the chat runtime (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError

from conversations.selectors import oncall_recipients


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
