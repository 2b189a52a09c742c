"""Reads of releases: lists, one release with its timeline, the incumbent."""

from __future__ import annotations

from django.db.models import QuerySet

from conversations.models import Release, ReleaseStage
from evaluation.models import EvaluationRun
from training_jobs.models import ReleaseEvent

_RELATED = ("safety_version", "intent_version", "incumbent", "created_by")


def release_list() -> QuerySet[Release]:
    """Each with its rule set's and signal file's rows, without their texts (the list shows
    versions and sha256)."""
    return (
        Release.objects.select_related(*_RELATED, "filter_rules", "risk_signals")
        .defer("filter_rules__text", "risk_signals__text")
        .order_by("-created_at", "-id")
    )


def release_get(*, release_id: int) -> Release | None:
    return (
        Release.objects.select_related(
            *_RELATED,
            "incumbent__safety_version",
            "incumbent__intent_version",
            "filter_rules",
            "risk_signals",
            "incumbent__filter_rules",
            "incumbent__risk_signals",
        )
        .filter(pk=release_id)
        .first()
    )


def release_live_get() -> Release | None:
    return Release.objects.select_related(*_RELATED).filter(stage=ReleaseStage.LIVE).first()


def release_events(*, release: Release) -> list[ReleaseEvent]:
    return list(release.events.select_related("actor").order_by("created_at", "id"))


def release_alerts_open() -> list[ReleaseEvent]:
    return list(
        ReleaseEvent.objects.filter(kind=ReleaseEvent.Kind.ALERT, acknowledged_at__isnull=True)
        .select_related("release")
        .order_by("-created_at")
    )


def release_smoke_runs(*, release: Release) -> list[tuple[str, EvaluationRun | None, str]]:
    """The evaluation runs the smoke tests started: ``(frozen-set kind, run, why none)``."""
    runs = (release.smoke_tests or {}).get("runs") or {}
    ids = [v for v in runs.values() if isinstance(v, int)]
    found = {r.pk: r for r in EvaluationRun.objects.filter(pk__in=ids)}
    return [
        (kind, found.get(value) if isinstance(value, int) else None, str(value))
        for kind, value in runs.items()
    ]
