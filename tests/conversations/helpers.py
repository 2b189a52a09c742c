"""Helpers shared by the chat runtime tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conversations.catalogue import Catalogue
from conversations.models import CrisisResource

FIXTURES = Path(__file__).resolve().parents[2] / "conversations" / "fixtures"


def shipped_catalogue() -> Catalogue:
    """The catalogue fixture as the response filter sees it, without touching the database."""
    entries = json.loads((FIXTURES / "crisis_resources.json").read_text(encoding="utf-8"))
    resources = []
    for entry in entries:
        fields = dict(
            entry["fields"], last_verified=dt.date.fromisoformat(entry["fields"]["last_verified"])
        )
        resources.append(CrisisResource(**fields))
    return Catalogue.from_resources(resources)
