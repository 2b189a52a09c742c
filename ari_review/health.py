"""Parts of the service whose failure degrades it without taking it down, as ``/healthz``
reports them beside the database and the broker. An app registers its own in its
``AppConfig.ready`` (the chat runtime registers ``generation``), so the core names none.

A probe returns an object with ``ok`` and ``detail`` (a dataclass; its other fields are
reported too) and must not raise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_probes: dict[str, Callable[[], DataclassInstance]] = {}


def degradation_probe_register(name: str, probe: Callable[[], DataclassInstance]) -> None:
    _probes[name] = probe


def degradation_probes_run() -> dict[str, dict[str, Any]]:
    """``{name: {"ok", "detail", ...}}`` of every registered probe, in registration order."""
    return {name: dataclasses.asdict(probe()) for name, probe in _probes.items()}
