"""The model registry's active versions follow the live release: only release promotion and
rollback (``training_jobs.releases.services``) call :func:`model_version_activate`."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.ttl_cache import active_model_version_key, ttl_cache_invalidate
from training_jobs.models import ModelVersion


def model_version_check_servable(version: ModelVersion) -> None:
    """Refuse a version that failed its training gate or has lost its artifact."""
    if not version.gate_passed:
        raise ApplicationError(
            f"Model version {version.name} cannot be activated: {version.gate_reason}"
        )
    if not version.artifact_dir.is_dir():
        raise ApplicationError(
            f"Model version {version.name} cannot be activated: its artifact is missing "
            f"({version.artifact_dir})."
        )


def model_version_activate(*, version: ModelVersion, user=None) -> ModelVersion:
    """Make ``version`` the one serving its kind (a release reaching 100%, or a rollback)."""
    model_version_check_servable(version)
    with transaction.atomic():
        previous = list(
            ModelVersion.objects.select_for_update().filter(kind=version.kind, is_active=True)
        )
        if any(p.pk == version.pk for p in previous):
            return version
        ModelVersion.objects.filter(pk__in=[p.pk for p in previous]).update(is_active=False)
        version.is_active = True
        version.activated_at = timezone.now()
        version.activated_by = user if getattr(user, "pk", None) else None
        version.save(update_fields=["is_active", "activated_at", "activated_by"])
        audit_event_record(
            actor=user,
            action="model_version.activate",
            obj=version,
            before={"active": [p.name for p in previous]},
            after={"active": version.name},
        )
        ttl_cache_invalidate(active_model_version_key(version.kind))
    return version
