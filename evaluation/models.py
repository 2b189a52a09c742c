"""Clinician review data. The seed dialogue is defined here first because the chat runtime's
``approved`` backend reads approved dialogues (through ``evaluation.selectors``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SeedDialogue(models.Model):
    """A dialogue in the messages format: ``[{"role": "system"|"user"|"assistant", "content"}]``.

    Paraphrase variants point at their original through ``variant_of``. Only approved dialogues
    feed training exports and the ``approved`` chat backend.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    title = models.CharField(max_length=200, blank=True, default="")
    messages = models.JSONField()
    session_type = models.CharField(max_length=20, blank=True, default="")
    flow_step = models.CharField(max_length=30, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=100, blank=True, default="authored")
    variant_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="variants"
    )
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Dialogue {self.pk}"
