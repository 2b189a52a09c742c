"""The audit trail's hash chain: each event stores the hash of the event before it and its own
hash, ``sha256(prev_hash + canonical JSON of its fields)``, so editing, removing or reordering a
stored event breaks the chain at that event (``manage.py audit_verify`` finds the first break).

Appends are serialised so the chain never forks: on PostgreSQL every append takes a transaction
advisory lock before it reads the chain's head and holds it until its transaction commits (keep
audit writes late in long transactions); SQLite has one writer at a time. A unique constraint on
``prev_hash`` refuses a fork even if something bypassed the lock.

The hash covers every field but ``id``; the chain's order is the id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from django.db import connections

GENESIS = "0" * 64
# pg_advisory_xact_lock key of the audit chain ("ARIAUDT" in ASCII).
LOCK_KEY = 0x41524941554454
FIELDS = (
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
)


def _plain(value):
    """JSON values as they come back from the database: a whole float reads back as an int
    from jsonb (1e16 -> 10000000000000000), so both are hashed as the int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _json_value(value):
    if value is None:
        return None
    # Through JSON first: tuples become lists and int keys strings, as the database returns them.
    return _plain(json.loads(json.dumps(value, allow_nan=False)))


def event_canonical(fields: Mapping) -> str:
    """The canonical JSON of an event's fields (``FIELDS``), the same before the insert and
    after a read."""
    created_at = fields["created_at"]
    data = {
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": fields["actor_id"],
        "actor_name": fields["actor_name"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": str(fields["object_id"]),
        "before": _json_value(fields["before"]),
        "after": _json_value(fields["after"]),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_digest(*, prev_hash: str, fields: Mapping) -> str:
    payload = prev_hash + event_canonical(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_fields(event) -> dict:
    return {name: getattr(event, name) for name in FIELDS}


def chain_lock(*, using: str) -> None:
    """Serialise appends until the current transaction ends (PostgreSQL)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def chain_head(model, *, using: str) -> str:
    """The hash of the last event, or ``GENESIS`` when there is none."""
    head = model._base_manager.using(using).order_by("-id").values_list("hash", flat=True).first()
    return head or GENESIS


def chain_append(model, events: Iterable, *, using: str) -> None:
    """Give unsaved ``events`` (in order) their ``prev_hash`` and ``hash``. Call inside the
    transaction that inserts them."""
    chain_lock(using=using)
    prev_hash = chain_head(model, using=using)
    for event in events:
        event.prev_hash = prev_hash
        event.hash = event_digest(prev_hash=prev_hash, fields=event_fields(event))
        prev_hash = event.hash


def chain_rows(model, *, using: str = "default", chunk_size: int = 2000):
    """Every event as the dict ``chain_verify`` reads, in id order, streamed."""
    return (
        model._base_manager.using(using)
        .order_by("id")
        .values("id", "prev_hash", "hash", *FIELDS)
        .iterator(chunk_size=chunk_size)
    )


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def chain_verify(rows: Iterable[Mapping]) -> ChainReport:
    """Walk ``rows`` (dicts with ``id``, ``prev_hash``, ``hash`` and ``FIELDS``, in id order) and
    report the first broken link."""
    expected_prev = GENESIS
    count = 0
    head_id = None
    for row in rows:
        if row["prev_hash"] != expected_prev:
            problem = (
                "its prev_hash does not match the hash of the event before it "
                f"(id {head_id}): an event was removed, inserted or reordered there"
                if head_id is not None
                else "it is the first event but its prev_hash is not the genesis hash: "
                "earlier events were removed"
            )
            return ChainReport(count, head_id, expected_prev, row["id"], problem)
        if event_digest(prev_hash=row["prev_hash"], fields=row) != row["hash"]:
            problem = "its content does not match its hash: the event was changed"
            return ChainReport(count, head_id, expected_prev, row["id"], problem)
        expected_prev = row["hash"]
        head_id = row["id"]
        count += 1
    return ChainReport(count, head_id, expected_prev)
