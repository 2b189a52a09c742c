"""Model registry (``ModelVersion``) and training jobs (``TrainingJob``).

Which trained model serves is data, not settings: the one active ``ModelVersion`` of each kind
decides (``training_jobs.selectors.model_version_active_get``).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models


class ModelKind(models.TextChoices):
    SAFETY = "safety", "Safety classifier"
    INTENT = "intent", "Intent classifier"
    REWARD = "reward", "Reward model (clinician preferences)"


class Backend(models.TextChoices):
    LINEAR = "linear", "Linear (word + character n-grams)"
    MINILM = "minilm", "MiniLM fine-tuned (int8 at serving)"
    BRADLEY_TERRY = "bt", "Bradley-Terry, linear on MiniLM sentence vectors"


class ModelVersion(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ModelKind.choices)
    backend = models.CharField(max_length=10, choices=Backend.choices)
    # Relative to settings.MODEL_ARTIFACT_DIR, or absolute.
    artifact_path = models.CharField(max_length=500)
    thresholds = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    train_data_hash = models.CharField(max_length=64)
    test_data_hash = models.CharField(max_length=64)
    train_rows = models.PositiveIntegerField(default=0)
    database_rows = models.PositiveIntegerField(default=0)
    training_seconds = models.FloatField(default=0.0)
    gate_passed = models.BooleanField(default=False)
    gate_reason = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_active=True), name="modelversion_one_active"
            )
        ]
        indexes = [models.Index(fields=["kind", "is_active"], name="modelversion_kind_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def artifact_dir(self) -> Path:
        path = Path(self.artifact_path)
        return path if path.is_absolute() else Path(settings.MODEL_ARTIFACT_DIR) / path

    @property
    def headline(self) -> dict:
        """The few numbers shown in lists."""
        m = self.metrics or {}
        latency = m.get("latency_single") or {}
        if self.kind == ModelKind.SAFETY:
            return {
                "high_recall": m.get("high_recall"),
                "clearly_safe_high_rate": m.get("clearly_safe_high_rate"),
                "p95_ms": latency.get("p95_ms"),
            }
        if self.kind == ModelKind.REWARD:
            return {
                "pairwise_accuracy": m.get("heldout_pairwise_accuracy"),
                "pairs": m.get("pairs"),
            }
        return {"accuracy": m.get("accuracy"), "p95_ms": latency.get("p95_ms")}


class TrainingJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=ModelKind.choices)
    backend = models.CharField(max_length=10, choices=Backend.choices, default=Backend.LINEAR)
    activate = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=80, blank=True, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # What happened to activation: "activated", or why not.
    activation_note = models.TextField(blank=True, default="")
    model_version = models.OneToOneField(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_job"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="trainingjob_status")]

    def __str__(self) -> str:
        return f"Training job #{self.pk} ({self.kind}, {self.backend})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ReleaseEvent(models.Model):
    """The timeline of a release (``conversations.Release``): stage changes, edits of the draft
    (which fields), gate overrides, rollbacks (by hand or by the monitor) and the alerts raised
    to the admins."""

    class Kind(models.TextChoices):
        STAGE = "stage", "Stage change"
        EDIT = "edit", "Draft edited"
        OVERRIDE = "override", "Gate override"
        ROLLBACK = "rollback", "Rollback"
        ALERT = "alert", "Alert"

    release = models.ForeignKey(
        "conversations.Release", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_stage = models.CharField(max_length=12, blank=True, default="")
    to_stage = models.CharField(max_length=12, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    # What the decision rested on: the checklist, the monitor's metrics and tests.
    evidence = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Alerts: until an admin acknowledges them they count as open critical alerts.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["release", "kind"], name="releaseevent_release_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of release {self.release_id}"
