"""docs/map.md stays true: every repository path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "map.md"


def named_paths(text: str) -> list[str]:
    """Code spans that name a repository path: a slash in them (``conversations/apis/``) or a
    dot file (``.importlinter``), no spaces. A bare room name (``models.py``) is generic."""
    spans = re.findall(r"`([^`\n]+)`", text)
    return [s for s in spans if " " not in s and ("/" in s or s.startswith("."))]


def test_every_path_the_map_names_exists():
    paths = named_paths(MAP.read_text(encoding="utf-8"))
    assert len(paths) > 40  # the map names its paths in code spans
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert missing == []


def test_a_path_that_is_gone_is_reported():
    text = "`conversations/services/gone.py`, `manage.py train_classifier`, `Rule`, `models.py`"
    paths = named_paths(text)
    assert paths == ["conversations/services/gone.py"]
    assert not (ROOT / paths[0]).exists()
