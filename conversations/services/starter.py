"""The starter content every installation needs from its first start, loaded idempotently:
the crisis-resource catalogue, Ari's persona prompt (version 1), the fixed safety replies, the
``oncall`` group and the shipped risk exemplars. The starter seed dialogues (approved content,
a workspace model) are loaded by ``evaluation.services.starter``, which runs both.

Existing rows are never overwritten (admins and clinicians may have edited them), unless
``force=True`` is given for the catalogue, persona and fixed replies.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from conversations.catalogue import catalogue_file_read
from conversations.models import CrisisResource, EmergencyReply, PersonaPrompt
from conversations.selectors import (
    DEFAULT_EMERGENCY_TEXT,
    DEFAULT_MEDIUM_RISK_TEXT,
    DEFAULT_SAFETY_MODE_TEXT,
    DEFAULT_SAFETY_RESOLVED_TEXT,
    DEFAULT_UNAVAILABLE_TEXT,
)
from conversations.services.exemplars import exemplars_load_shipped

logger = logging.getLogger(__name__)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _crisis_resources_load(*, force: bool) -> int:
    """The catalogue's data file (``conversations/catalogue.py`` validates it) into rows."""
    created = 0
    version, entries = catalogue_file_read()
    logger.info("crisis catalogue file version=%s entries=%d", version, len(entries))
    for fields in entries:
        fields = dict(fields)
        lookup = {"locale": fields.pop("locale"), "name": fields.pop("name")}
        if force:
            _, was_created = CrisisResource.objects.update_or_create(**lookup, defaults=fields)
        else:
            _, was_created = CrisisResource.objects.get_or_create(**lookup, defaults=fields)
        created += int(was_created)
    return created


def _persona_load(*, force: bool) -> int:
    text = (FIXTURES / "persona_prompt.txt").read_text(encoding="utf-8").strip()
    if PersonaPrompt.objects.exists():
        if force and not PersonaPrompt.objects.filter(text=text, active=True).exists():
            latest = PersonaPrompt.objects.order_by("-version").first()  # one exists (above)
            version = ((latest.version if latest is not None else None) or 0) + 1
            PersonaPrompt.objects.create(version=version, text=text, active=True)
            return 1
        return 0
    PersonaPrompt.objects.create(version=1, text=text, active=True)
    return 1


def _fixed_replies_load(*, force: bool) -> int:
    if EmergencyReply.objects.filter(active=True).exists() and not force:
        return 0
    EmergencyReply.objects.create(
        text=DEFAULT_EMERGENCY_TEXT,
        safety_mode_text=DEFAULT_SAFETY_MODE_TEXT,
        medium_risk_text=DEFAULT_MEDIUM_RISK_TEXT,
        safety_resolved_text=DEFAULT_SAFETY_RESOLVED_TEXT,
        unavailable_text=DEFAULT_UNAVAILABLE_TEXT,
        active=True,
    )
    return 1


@transaction.atomic
def runtime_starter_load(*, force: bool = False) -> dict[str, int]:
    """Load what the chat runtime is missing; returns how many rows of each kind were created.
    The whole starter set (with the approved seed dialogues) is
    ``evaluation.services.starter.starter_content_load``."""
    Group.objects.get_or_create(name=settings.ARI_ONCALL_GROUP)
    return {
        "crisis_resources": _crisis_resources_load(force=force),
        "persona_prompts": _persona_load(force=force),
        "fixed_replies": _fixed_replies_load(force=force),
        "risk_exemplars": exemplars_load_shipped(),
    }
