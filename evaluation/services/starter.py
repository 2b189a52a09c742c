"""The whole starter set, loaded idempotently: the chat runtime's part
(``conversations.services.starter``: catalogue, persona, fixed replies, oncall group, risk
exemplars) and the approved starter seed dialogues for the ``approved`` backend, each of them
audited as entered by the system, not by a clinician.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from ari_review.audit import audit_event_record
from ari_review.ttl_cache import APPROVED_INDEX_KEY, ttl_cache_invalidate
from conversations.content.seeds import seed_dialogues_read
from conversations.services.starter import runtime_starter_load
from evaluation.models import SeedDialogue
from evaluation.services.dialogues import dialogue_snapshot

logger = logging.getLogger(__name__)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STARTER_SOURCE = "ari-starter"
STARTER_REVIEW_REASON = (
    "Starter content shipped with Ari Review, written from the persona principles so the chat "
    "works from the first start. Clinicians should review it like any other dialogue."
)


def starter_dialogues_read() -> list[dict[str, Any]]:
    dialogues: list[dict[str, Any]] = json.loads(
        (FIXTURES / "starter_dialogues.json").read_text(encoding="utf-8")
    )
    return dialogues


@transaction.atomic
def starter_content_load(*, force: bool = False) -> dict[str, int]:
    """Load what is missing; returns how many rows of each kind were created. ``force``
    overwrites the runtime's catalogue, persona and fixed replies (never seed dialogues)."""
    runtime = runtime_starter_load(force=force)
    counts = {
        "crisis_resources": runtime["crisis_resources"],
        "persona_prompts": runtime["persona_prompts"],
        "fixed_replies": runtime["fixed_replies"],
        "seed_dialogues": _starter_dialogues_load(),
        "risk_exemplars": runtime["risk_exemplars"],
    }
    logger.info("starter content loaded %s", counts)
    return counts


def _starter_dialogues_load() -> int:
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


def _starter_dialogues_audit(dialogues: Iterable[SeedDialogue]) -> None:
    """Record that each starter dialogue entered as approved by the system, not by a clinician,
    so the audit trail shows which approved content no clinician has reviewed yet."""
    for dialogue in dialogues:
        after = {
            **dialogue_snapshot(dialogue),
            "source": dialogue.source,
            "external_id": dialogue.external_id,
        }
        audit_event_record(actor=None, action="starter_loaded", obj=dialogue, after=after)


def seed_bank_load() -> int:
    """Add the bank's dialogues that are missing, as drafts for clinician approval (variants
    linked to their originals); returns how many were created. Idempotent by (source, key)."""
    dialogues = seed_dialogues_read()
    stored = SeedDialogue.objects.filter(source__in={d["source"] for d in dialogues})
    existing: dict[tuple[str, str | None], int] = {
        (source, key): pk for source, key, pk in stored.values_list("source", "external_id", "pk")
    }
    created = 0
    # originals first, so that a variant finds its original's row
    for variants in (False, True):
        batch = [
            d
            for d in dialogues
            if bool(d.get("variant_of")) is variants and (d["source"], d["key"]) not in existing
        ]
        rows = SeedDialogue.objects.bulk_create(
            [_draft(d, existing.get((d["source"], d.get("variant_of")))) for d in batch]
        )
        for entry, row in zip(batch, rows, strict=True):
            existing[(entry["source"], entry["key"])] = row.pk
        created += len(rows)
    if created:
        logger.info("seed bank: %d dialogues added as drafts", created)
    return created


def _draft(entry: dict[str, Any], parent_pk: int | None) -> SeedDialogue:
    feelings = entry.get("feelings", [])
    return SeedDialogue(
        title=entry["title"][:200],
        messages=entry["messages"],
        session_type=entry["session_type"],
        tags=[f"concern:{entry['concern']}", *(f"feeling:{f}" for f in feelings)],
        source=entry["source"][:100],
        external_id=entry["key"],
        meta={"concern": entry["concern"], "feelings": feelings},
        variant_of_id=parent_pk,
        state=SeedDialogue.State.DRAFT,
    )
