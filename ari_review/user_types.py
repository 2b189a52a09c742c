"""Type names shared by annotations (checked by mypy: docs/typing.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Who does something: a request's user (signed in or anonymous), or None for the system
# (Celery, management commands).
Actor: TypeAlias = "User | AnonymousUser | None"
