"""Frozen test sets (versioned, immutable once frozen) and evaluation runs on them.

Imported by ``evaluation/models.py`` so that Django registers them with the app; kept in a
module of their own so the workspace's models stay readable. A run names the model version it
evaluates by a string reference (``training_jobs.ModelVersion``): the registry sits on the floor
above, and nothing here imports it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FrozenSetKind(models.TextChoices):
    SAFETY = "safety", "Safety (100 high, 50 medium, 50 ambiguous edge cases)"
    PERSONA = "persona", "Persona (100 openings, varied concerns)"
    EDGE = "edge", "Edge (medical, legal, off-topic, very short, very long)"


class FrozenSet(models.Model):
    """One version of a frozen test set. A draft takes items; ``frozen`` is final: its items
    and content hash never change again (a new version is a new row)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FROZEN = "frozen", "Frozen"

    kind = models.CharField(max_length=10, choices=FrozenSetKind.choices)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # Where the items came from: "starter file <name>" or "clinician labels".
    source = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    content_hash = models.CharField(max_length=64, blank=True, default="")
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    frozen_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="frozenset_kind_version"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | ~models.Q(content_hash=""),
                name="frozenset_frozen_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version} ({self.status})"

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN


class FrozenSetItem(models.Model):
    """One test input with what is expected of it (``{"risk_level", "category"}`` for safety,
    ``{"concern", "session_type"}`` for persona, ``{"edge_kind", "risk_level"}`` for edge)."""

    frozen_set = models.ForeignKey(FrozenSet, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    external_id = models.CharField(max_length=100)
    text = models.TextField()
    history = models.JSONField(default=list, blank=True)  # earlier user messages, oldest first
    expected = models.JSONField(default=dict)
    stratum = models.CharField(max_length=30)  # high / medium / edge_case, a concern, an edge kind
    tags = models.JSONField(default=list, blank=True)
    lang = models.CharField(max_length=5, default="en")
    provenance = models.CharField(max_length=300, blank=True, default="")
    # "starter, awaiting clinician verification" or "clinician-verified by <pseudonym>".
    verification = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["frozen_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["frozen_set", "position"], name="frozenitem_position"),
            models.UniqueConstraint(
                fields=["frozen_set", "external_id"], name="frozenitem_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} of {self.frozen_set_id}"


class EvaluationRun(models.Model):
    """A model version (safety or intent) or a generation configuration run on a frozen set,
    as a Celery job with progress; its predictions and metrics are stored."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    frozen_set = models.ForeignKey(FrozenSet, on_delete=models.PROTECT, related_name="runs")
    # What is evaluated: a model version, or (persona/edge sets) a generation configuration
    # ({"generator": "composed"}) run through the real chat turn.
    model_version = models.ForeignKey(
        "training_jobs.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluation_runs",
    )
    generation_config = models.JSONField(default=dict, blank=True)
    # A reward model version that ranks the replies of a generation run (optional).
    reward_model_version = models.ForeignKey(
        "training_jobs.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=80, blank=True, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    metrics = models.JSONField(default=dict, blank=True)
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
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="evalrun_status"),
            models.Index(fields=["model_version", "status"], name="evalrun_version"),
        ]

    def __str__(self) -> str:
        return f"Evaluation run #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def target_label(self) -> str:
        if self.model_version_id:
            return str(self.model_version)
        return "generation: " + ", ".join(f"{k}={v}" for k, v in self.generation_config.items())


class EvaluationPrediction(models.Model):
    """What the evaluated system did with one frozen item."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="predictions")
    item = models.ForeignKey(FrozenSetItem, on_delete=models.PROTECT, related_name="+")
    # Safety: {"level", "category", "score"}; intent: {"intent", "score"}; generation:
    # {"intent", "validates", "emergency", "risk_level", "filter_hits", "backend"}.
    predicted = models.JSONField(default=dict)
    correct = models.BooleanField(null=True, blank=True)  # null: nothing to be right about
    reply_text = models.TextField(blank=True, default="")
    latency_ms = models.FloatField(null=True, blank=True)
    reward = models.FloatField(null=True, blank=True)
    session = models.ForeignKey(
        "conversations.ChatSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["run", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="evalprediction_once"),
        ]

    def __str__(self) -> str:
        return f"Prediction of run {self.run_id} on item {self.item_id}"
