"""Helpers shared by the chat runtime tests."""

from __future__ import annotations

from conversations.catalogue import Catalogue, catalogue_file_read
from conversations.models import CrisisResource


def shipped_catalogue() -> Catalogue:
    """The shipped catalogue (every locale's entries, as served) as the response filter sees
    it, without touching the database."""
    _, entries = catalogue_file_read()
    return Catalogue.from_resources(CrisisResource(**fields) for fields in entries)
