"""The starter content every installation needs from its first start, loaded idempotently:
the crisis-resource catalogue, Ari's persona prompt (version 1), the fixed safety replies, the
``oncall`` group, and a starter set of approved seed dialogues for the ``approved`` backend.

Existing rows are never overwritten (admins and clinicians may have edited them), unless
``force=True`` is given for the catalogue, persona and fixed replies.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from ari_review.ttl_cache import APPROVED_INDEX_KEY, ttl_cache_invalidate
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
STARTER_SOURCE = "ari-starter"
STARTER_REVIEW_REASON = (
    "Starter content shipped with Ari Review, written from the persona principles so the chat "
    "works from the first start. Clinicians should review it like any other dialogue."
)


def starter_dialogues_read() -> list[dict]:
    return json.loads((FIXTURES / "starter_dialogues.json").read_text(encoding="utf-8"))


def _crisis_resources_load(*, force: bool) -> int:
    created = 0
    for entry in json.loads((FIXTURES / "crisis_resources.json").read_text(encoding="utf-8")):
        fields = dict(entry["fields"])
        fields["last_verified"] = dt.date.fromisoformat(fields["last_verified"])
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
            version = (PersonaPrompt.objects.order_by("-version").first().version or 0) + 1
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


def _starter_dialogues_load() -> int:
    from evaluation.models import SeedDialogue

    existing = set(
        SeedDialogue.objects.filter(source=STARTER_SOURCE).values_list("external_id", flat=True)
    )
    now = timezone.now()
    new = [
        SeedDialogue(
            title=entry["title"],
            messages=entry["messages"],
            session_type=entry["session_type"],
            flow_step=entry["flow_step"],
            tags=entry.get("tags", []),
            source=STARTER_SOURCE,
            external_id=entry["key"],
            state=SeedDialogue.State.APPROVED,
            reviewed_at=now,
            review_reason=STARTER_REVIEW_REASON,
        )
        for entry in starter_dialogues_read()
        if entry["key"] not in existing
    ]
    created = SeedDialogue.objects.bulk_create(new)
    _starter_dialogues_audit(created)
    if new:
        ttl_cache_invalidate(APPROVED_INDEX_KEY)
    return len(new)


def _starter_dialogues_audit(dialogues) -> None:
    """Record that each starter dialogue entered as approved by the system, not by a clinician,
    so the audit trail shows which approved content no clinician has reviewed yet."""
    from evaluation.services.audit import audit_event_record
    from evaluation.services.dialogues import dialogue_snapshot

    for dialogue in dialogues:
        after = {
            **dialogue_snapshot(dialogue),
            "source": dialogue.source,
            "external_id": dialogue.external_id,
        }
        audit_event_record(actor=None, action="starter_loaded", obj=dialogue, after=after)


@transaction.atomic
def starter_content_load(*, force: bool = False) -> dict[str, int]:
    """Load what is missing; returns how many rows of each kind were created."""
    Group.objects.get_or_create(name=settings.ARI_ONCALL_GROUP)
    counts = {
        "crisis_resources": _crisis_resources_load(force=force),
        "persona_prompts": _persona_load(force=force),
        "fixed_replies": _fixed_replies_load(force=force),
        "seed_dialogues": _starter_dialogues_load(),
        "risk_exemplars": exemplars_load_shipped(),
    }
    logger.info("starter content loaded %s", counts)
    return counts
