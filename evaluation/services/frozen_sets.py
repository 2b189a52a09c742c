"""Frozen test sets: load a starter file or build a draft from clinician labels, then freeze it.

A draft takes items; :func:`frozen_set_freeze` computes its content hash and records who froze
it and when (audited). A frozen set is final: no service adds, edits or removes its items, and
a new version is a new row. Training refuses every frozen text
(:func:`evaluation.selectors.frozen_sets.frozen_text_fingerprints`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from evaluation.models import FrozenSet, FrozenSetItem, FrozenSetKind

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

STARTER_DIR = Path(__file__).resolve().parent.parent / "frozen_sets"
STARTER_FILES = {
    FrozenSetKind.SAFETY: "safety-starter.jsonl",
    FrozenSetKind.PERSONA: "persona-starter.jsonl",
    FrozenSetKind.EDGE: "edge-starter.jsonl",
}
# How many items of each stratum a set holds (the composition).
COMPOSITION: dict[str, dict[str, int]] = {
    FrozenSetKind.SAFETY: {"high": 100, "medium": 50, "edge_case": 50},
    FrozenSetKind.PERSONA: {
        "anxiety": 20,
        "self_worth": 20,
        "relationships": 20,
        "grief": 20,
        "work": 20,
    },
    FrozenSetKind.EDGE: {
        "medical": 10,
        "legal": 10,
        "off_topic": 10,
        "very_short": 10,
        "very_long": 10,
    },
}
STARTER_VERIFICATION = "starter, awaiting clinician verification"
REQUIRED_KEYS = ("id", "text", "expected", "stratum")


def _check_kind(kind: str) -> None:
    if kind not in FrozenSetKind.values:
        raise ApplicationError(
            f"Unknown frozen set kind {kind!r}: choose one of {', '.join(FrozenSetKind.values)}."
        )


def frozen_set_rows_read(path: Path, *, kind: str) -> list[dict[str, Any]]:
    """The rows of a starter JSONL file, checked (a clear error names the line)."""
    _check_kind(kind)
    if not path.exists():
        raise ApplicationError(f"Frozen set file not found: {path}")
    rows, seen = [], set()
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"{path.name}:{number}: not valid JSON ({exc.msg}).") from None
        missing = [k for k in REQUIRED_KEYS if k not in row]
        if missing:
            raise ApplicationError(f"{path.name}:{number}: missing {', '.join(missing)}.")
        if not isinstance(row["text"], str) or not row["text"].strip():
            raise ApplicationError(f"{path.name}:{number}: 'text' must be a non-empty string.")
        if row["stratum"] not in COMPOSITION[kind]:
            raise ApplicationError(
                f"{path.name}:{number}: stratum {row['stratum']!r} is not one of "
                f"{', '.join(COMPOSITION[kind])}."
            )
        if kind == FrozenSetKind.SAFETY and not row["expected"].get("risk_level"):
            raise ApplicationError(f"{path.name}:{number}: a safety row needs expected.risk_level.")
        if row["id"] in seen:
            raise ApplicationError(f"{path.name}:{number}: id {row['id']!r} repeats.")
        seen.add(row["id"])
        rows.append(row)
    return rows


def frozen_set_content_hash(rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the items' inputs and expectations, in position order."""
    digest = hashlib.sha256()
    for row in rows:
        payload = [
            row["external_id"],
            row["text"],
            list(row.get("history") or []),
            row["expected"],
            row["stratum"],
        ]
        digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _next_version(kind: str) -> int:
    latest = FrozenSet.objects.filter(kind=kind).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


@transaction.atomic
def frozen_set_draft_create(
    *,
    kind: str,
    rows: list[dict[str, Any]],
    source: str,
    description: str = "",
    created_by: User | None = None,
) -> FrozenSet:
    """A new draft version of ``kind`` holding ``rows`` (``{"id", "text", "history",
    "expected", "stratum", "tags", "lang", "provenance", "verification"}``)."""
    _check_kind(kind)
    if not rows:
        raise ApplicationError("A frozen set needs at least one item.")
    frozen_set = FrozenSet.objects.create(
        kind=kind,
        version=_next_version(kind),
        source=source[:200],
        description=description,
        created_by=created_by,
    )
    FrozenSetItem.objects.bulk_create(
        [
            FrozenSetItem(
                frozen_set=frozen_set,
                position=position,
                external_id=str(row["id"])[:100],
                text=row["text"].strip(),
                history=list(row.get("history") or []),
                expected=row["expected"],
                stratum=row["stratum"],
                tags=list(row.get("tags") or []),
                lang=row.get("lang") or "en",
                provenance=(row.get("provenance") or "")[:300],
                verification=(row.get("verification") or "")[:100],
            )
            for position, row in enumerate(rows)
        ]
    )
    audit_event_record(
        actor=created_by,
        action="frozen_set.create",
        obj=frozen_set,
        after={
            "kind": kind,
            "version": frozen_set.version,
            "source": frozen_set.source,
            "items": len(rows),
            "strata": dict(Counter(r["stratum"] for r in rows)),
        },
    )
    logger.info("frozen set draft created id=%s kind=%s items=%s", frozen_set.pk, kind, len(rows))
    return frozen_set


def frozen_set_starter_load(
    *, kind: str, created_by: User | None = None, freeze: bool = True
) -> FrozenSet:
    """The shipped starter version of ``kind`` (``evaluation/frozen_sets/``), frozen by
    default. Idempotent: a frozen set with the same content hash is returned as it is."""
    _check_kind(kind)
    name = STARTER_FILES[FrozenSetKind(kind)]
    rows = frozen_set_rows_read(STARTER_DIR / name, kind=kind)
    digest = frozen_set_content_hash([{**r, "external_id": str(r["id"])} for r in rows])
    existing = FrozenSet.objects.filter(kind=kind, content_hash=digest).first()
    if existing is not None:
        return existing
    draft = frozen_set_draft_create(
        kind=kind,
        rows=rows,
        source=f"starter file {name}",
        description="Starter version shipped with the code; awaiting clinician verification.",
        created_by=created_by,
    )
    return frozen_set_freeze(frozen_set=draft, user=created_by) if freeze else draft


@transaction.atomic
def frozen_set_freeze(*, frozen_set: FrozenSet, user: User | None = None) -> FrozenSet:
    """Freeze a draft: content hash, who, when (audited). Freezing twice is refused."""
    locked = FrozenSet.objects.select_for_update().get(pk=frozen_set.pk)
    if locked.is_frozen:
        raise ApplicationError(
            f"Frozen set {locked.kind} v{locked.version} is already frozen "
            f"(hash {locked.content_hash[:12]})."
        )
    rows = list(
        locked.items.order_by("position").values(
            "external_id", "text", "history", "expected", "stratum"
        )
    )
    if not rows:
        raise ApplicationError("An empty set cannot be frozen.")
    locked.content_hash = frozen_set_content_hash(rows)
    locked.status = FrozenSet.Status.FROZEN
    locked.frozen_by = user if getattr(user, "pk", None) else None
    locked.frozen_at = timezone.now()
    locked.save(update_fields=["content_hash", "status", "frozen_by", "frozen_at"])
    audit_event_record(
        actor=user,
        action="frozen_set.freeze",
        obj=locked,
        before={"status": FrozenSet.Status.DRAFT},
        after={"status": locked.status, "content_hash": locked.content_hash, "items": len(rows)},
    )
    logger.info("frozen set frozen id=%s items=%s", locked.pk, len(rows))
    frozen_set.refresh_from_db()  # the caller's instance reads as frozen too
    return locked


@transaction.atomic
def frozen_set_item_add(
    *, frozen_set: FrozenSet, row: dict[str, Any], user: User | None = None
) -> FrozenSetItem:
    """Add one item to a draft. A frozen set is immutable: refused."""
    locked = FrozenSet.objects.select_for_update().get(pk=frozen_set.pk)
    if locked.is_frozen:
        raise ApplicationError(
            f"Frozen set {locked.kind} v{locked.version} is frozen; its items cannot change. "
            "Create a new version instead."
        )
    position = (locked.items.aggregate(p=Max("position"))["p"] or -1) + 1
    item = FrozenSetItem.objects.create(
        frozen_set=locked,
        position=position,
        external_id=str(row["id"])[:100],
        text=row["text"].strip(),
        history=list(row.get("history") or []),
        expected=row["expected"],
        stratum=row["stratum"],
        provenance=(row.get("provenance") or "")[:300],
        verification=(row.get("verification") or "")[:100],
    )
    audit_event_record(
        actor=user, action="frozen_set.item_add", obj=locked, after={"item_id": item.pk}
    )
    return item


@transaction.atomic
def frozen_set_next_version(*, frozen_set: FrozenSet, created_by: User | None = None) -> FrozenSet:
    """A new draft version of ``frozen_set``'s kind holding a copy of its items, for clinicians
    to verify (or drop) item by item before it is frozen in turn; the frozen one is untouched."""
    rows = [
        {
            "id": item.external_id,
            "text": item.text,
            "history": item.history,
            "expected": item.expected,
            "stratum": item.stratum,
            "tags": item.tags,
            "lang": item.lang,
            "provenance": item.provenance,
            "verification": item.verification,
        }
        for item in frozen_set.items.order_by("position")
    ]
    return frozen_set_draft_create(
        kind=frozen_set.kind,
        rows=rows,
        source=f"{frozen_set.kind} v{frozen_set.version}",
        description=f"Next version of {frozen_set.kind} v{frozen_set.version}, to verify.",
        created_by=created_by,
    )


@transaction.atomic
def frozen_set_item_verify(
    *, item: FrozenSetItem, clinician: User, keep: bool = True
) -> FrozenSetItem:
    """A clinician verifies one item of a draft (its text and expectation hold), or drops it
    (``keep=False``). Refused on a frozen set. Audited; the item records the clinician's
    pseudonym, never the name."""
    from ari_review.privacy.masking import pseudonym

    locked = FrozenSet.objects.select_for_update().get(pk=item.frozen_set_id)
    if locked.is_frozen:
        raise ApplicationError(
            f"Frozen set {locked.kind} v{locked.version} is frozen; verify items on a new version."
        )
    before = {"verification": item.verification, "external_id": item.external_id}
    if not keep:
        item_id = item.pk
        item.delete()
        audit_event_record(
            actor=clinician,
            action="frozen_set.item_drop",
            obj=locked,
            before=before,
            after={"item_id": item_id},
        )
        return item
    item.verification = f"clinician-verified ({pseudonym(clinician.pk)})"
    item.save(update_fields=["verification"])
    audit_event_record(
        actor=clinician,
        action="frozen_set.item_verify",
        obj=locked,
        before=before,
        after={"item_id": item.pk, "verification": item.verification},
    )
    return item
