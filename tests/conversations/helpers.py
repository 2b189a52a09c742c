"""Helpers shared by the chat runtime tests."""

from __future__ import annotations

from conversations.backends.base import GenerationRequest
from conversations.catalogue import Catalogue, catalogue_file_read
from conversations.models import CrisisResource


def shipped_catalogue() -> Catalogue:
    """The shipped catalogue (every locale's entries, as served) as the response filter sees
    it, without touching the database."""
    _, entries = catalogue_file_read()
    return Catalogue.from_resources(CrisisResource(**fields) for fields in entries)


def composed_reply(
    text: str,
    history=(),
    *,
    session_type: str = "check_in",
    step: str = "mood",
    risk_level: str = "low",
    generator=None,
):
    """The composed responder's reply to ``text`` after ``history`` ((role, text) pairs)."""
    from conversations.backends.generation.composed import ComposedGenerator

    return (generator or ComposedGenerator()).generate(
        GenerationRequest(
            user_text=text,
            session_type=session_type,
            flow_step=step,
            persona="",
            history=tuple(history),
            preferences={},
            previous_summary="",
            risk_level=risk_level,
        )
    )
