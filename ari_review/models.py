"""Core data: the append-only audit trail, written by every app (``ari_review.audit``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone

from ari_review import audit_chain


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditImmutableError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AuditImmutableError("Audit events are append-only: they cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditImmutableError("Audit events are append-only: they cannot be updated.")

    def bulk_create(self, objs, *args, **kwargs):
        """Appends the events to the hash chain in the given order."""
        objs = list(objs)
        if any(obj.pk is not None for obj in objs):
            raise AuditImmutableError("Audit events are append-only: they cannot be updated.")
        # QuerySet._db is private, not in django-stubs.
        using = self._db or router.db_for_write(self.model)  # type: ignore[attr-defined]
        with transaction.atomic(using=using, savepoint=False):
            audit_chain.chain_append(self.model, objs, using=using)
            return super().bulk_create(objs, *args, **kwargs)


class AuditImmutableError(Exception):
    pass


class AuditEvent(models.Model):
    """Who did what, when, with the state before and after. Append-only: the queryset and model
    refuse updates and deletes, and a database trigger refuses them even from raw SQL. Each event
    carries the hash of the one before it and its own (ari_review/audit_chain.py), so a change
    made around all that is found by ``manage.py audit_verify``."""

    # Set before the insert (not auto_now_add), so the hash computed before the insert covers it.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "evaluation_auditevent"  # created by the evaluation app (moved here in 2026-12)
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
            models.Index(fields=["actor", "-created_at"], name="auditevent_actor"),
        ]
        constraints = [
            # One successor per event: the chain cannot fork.
            models.UniqueConstraint(fields=["prev_hash"], name="auditevent_chain_unique")
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditImmutableError("Audit events are append-only: they cannot be updated.")
        kwargs["force_insert"] = True
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            audit_chain.chain_append(type(self), [self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("Audit events are append-only: they cannot be deleted.")
