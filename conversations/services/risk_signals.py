"""Risk signals clinicians add in the workspace: validated like the file's entries, audited,
applied at once without retraining (every other process within ``ARI_CONFIG_CACHE_SECONDS``).

A workspace entry can only raise risk, like every signal; deactivating it is audited too.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import DatabaseError, transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.ttl_cache import ttl_cache_invalidate, ttl_cached
from conversations.backends.safety_rules import RULES, RiskSignalError, Rule, compile_entry
from conversations.models import RiskSignal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
CACHE_KEY = "risk_signals"
_warned: list[bool] = []


def workspace_rules() -> tuple[Rule, ...]:
    """The active workspace entries, compiled (cached like the rest of the chat configuration)."""
    return ttl_cached(CACHE_KEY, _load)


def _load() -> tuple[Rule, ...]:
    try:
        entries = [signal.as_entry() for signal in RiskSignal.objects.filter(is_active=True)]
    except (DatabaseError, RuntimeError) as exc:
        # No database here (not migrated, or a process without one): the file's signals still
        # apply, and the screen goes on; signals only ever raise risk. Said once per process.
        if not _warned:
            _warned.append(True)
            logger.warning("workspace risk signals unavailable (%s); file only", type(exc).__name__)
        return ()
    rules = []
    for entry in entries:
        try:
            rules.append(compile_entry(entry))
        except RiskSignalError:  # validated on save; a bad row must not silence the others
            logger.exception("workspace risk signal %s cannot be compiled", entry["id"])
    return tuple(rules)


def risk_signal_create(
    *,
    user: User,
    entry_id: str,
    level: str,
    category: str,
    langs: list[str],
    phrases: list[list[str]],
    window: int = 10,
    note: str = "",
) -> RiskSignal:
    """A new active signal; :class:`ApplicationError` naming the problem when it is invalid."""
    entry_id = (entry_id or "").strip()
    entry = {
        "id": entry_id,
        "level": level,
        "category": category,
        "langs": langs,
        "all": phrases,
        "window": window,
    }
    try:
        compile_entry(entry)
    except RiskSignalError as exc:
        raise ApplicationError(str(exc)) from None
    if (
        entry_id in {rule.id for rule in RULES}
        or RiskSignal.objects.filter(entry_id=entry_id).exists()
    ):
        raise ApplicationError(f"risk signal {entry_id!r}: the id is already used")
    with transaction.atomic():
        signal = RiskSignal.objects.create(
            entry_id=entry_id,
            level=level,
            category=category,
            langs=langs,
            phrases=phrases,
            window=window,
            note=note.strip(),
            created_by=user,
        )
        audit_event_record(actor=user, action="risk_signal.create", obj=signal, after=entry)
        ttl_cache_invalidate(CACHE_KEY)
    return signal


def risk_signal_deactivate(*, user: User, signal: RiskSignal) -> RiskSignal:
    with transaction.atomic():
        signal.is_active = False
        signal.save(update_fields=["is_active", "updated_at"])
        audit_event_record(
            actor=user,
            action="risk_signal.deactivate",
            obj=signal,
            before={"is_active": True},
            after={"is_active": False},
        )
        ttl_cache_invalidate(CACHE_KEY)
    return signal
