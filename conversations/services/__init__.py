"""Writes of the chat runtime, split by sub-domain. Other apps import from here."""

from conversations.services.crisis import (
    clinician_alert_mark_read,
    escalation_close,
    notifications_dispatch,
    notifications_queue,
)
from conversations.services.pipeline import TurnResult, chat_turn_run
from conversations.services.privacy import (
    sessions_retention_purge,
    transcript_reveal,
    user_data_erase,
    user_data_export,
)
from conversations.services.sessions import (
    chat_preferences_update,
    session_create,
    session_end,
    session_rate,
)

__all__ = [
    "TurnResult",
    "chat_preferences_update",
    "chat_turn_run",
    "clinician_alert_mark_read",
    "escalation_close",
    "notifications_dispatch",
    "notifications_queue",
    "session_create",
    "session_end",
    "session_rate",
    "sessions_retention_purge",
    "transcript_reveal",
    "user_data_erase",
    "user_data_export",
]
