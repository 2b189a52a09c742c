"""Clinician workspace data: work queues with locks, ratings and labels, seed dialogues,
preference comparisons, adjudications and computed metrics (the audit trail is core:
``ari_review.models.AuditEvent``).

The seed dialogue is read by the chat runtime's ``approved`` backend (through
``evaluation.selectors.approved_dialogues_list``). Everything else is written only through
``evaluation.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from conversations.models import Intent, RiskCategory, RiskLevel


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
    # Identifier in the imported file (so a re-import skips what it already holds).
    external_id = models.CharField(max_length=200, blank=True, default="")
    # Import details that are not part of the messages format (e.g. ESConv strategies).
    meta = models.JSONField(default=dict, blank=True)
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
    # The quality checklist as ticked by the reviewer at the last decision.
    checklist = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["state", "-updated_at"], name="seeddialogue_state_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="seeddialogue_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.title or f"Dialogue {self.pk}"


class WorkItem(models.Model):
    """One unit of clinician work in a queue: a session to rate, a text to label, or a set of
    candidate replies to compare. ``required_reviews`` clinicians must each complete it."""

    class Kind(models.TextChoices):
        REVIEW = "review", "Session review"
        SAFETY = "safety", "Safety label"
        INTENT = "intent", "Intent label"
        PREFERENCE = "preference", "Preference comparison"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    class Reason(models.TextChoices):
        ESCALATED = "escalated", "Escalated"
        HIGH_RISK = "high_risk", "High risk"
        LOW_CONFIDENCE = "low_confidence", "Low safety confidence"
        SAMPLE = "sample", "Random sample"
        UNCERTAIN = "uncertain", "Model uncertain"
        IMPORTED = "imported", "Imported"
        UNSAFE_CANDIDATE = "unsafe_candidate", "Candidate marked unsafe"
        # The weekly blinded sample of sessions scored none/low (live false-negative estimate):
        # queued without the model's score, ``session`` set (one item per session).
        FN_SAMPLE = "fn_sample", "Random sample (blinded)"
        EVALUATION = "evaluation", "Evaluation run reply"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Lower comes first. Review: tier (0 escalated .. 3 sample); labels: 1 - model uncertainty.
    priority = models.FloatField(default=0.0)
    required_reviews = models.PositiveSmallIntegerField(default=1)
    reviews_done = models.PositiveSmallIntegerField(default=0)
    # What is reviewed: a production session, a production message, or imported text.
    session = models.ForeignKey(
        "conversations.ChatSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(blank=True, default="")
    # Imported ``text`` as clinicians read it, stored by the import's batch task (or the first
    # page that shows it) with the masking's version (0: not yet): ``ari_review.privacy.
    # stored_masks``. A production item's text is its message's (``Message.text_masked``).
    text_masked = models.TextField(blank=True, default="")
    text_masked_version = models.PositiveSmallIntegerField(default=0)
    text_role = models.CharField(max_length=10, default="user")  # user | assistant
    context = models.JSONField(default=list, blank=True)  # messages format, oldest first
    suggestion = models.JSONField(default=dict, blank=True)  # the model's prediction
    source = models.CharField(max_length=40, default="production")
    external_id = models.CharField(max_length=200, blank=True, default="")
    # Intent items: sha256 of the reply's normalised text (the intent is read from the reply
    # alone), so the same reply is labelled once whichever session or file it came from.
    content_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "id"]
        indexes = [
            models.Index(fields=["kind", "status", "priority", "id"], name="workitem_queue"),
            models.Index(fields=["kind", "reviews_done"], name="workitem_kind_done"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "session"],
                condition=models.Q(session__isnull=False),
                name="workitem_unique_session",
            ),
            models.UniqueConstraint(
                fields=["kind", "message"],
                condition=models.Q(message__isnull=False),
                name="workitem_unique_message",
            ),
            models.UniqueConstraint(
                fields=["kind", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="workitem_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["kind", "content_key"],
                condition=~models.Q(content_key=""),
                name="workitem_unique_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class WorkLock(models.Model):
    """A clinician holds an item for a while so nobody else takes the same review slot."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="locks")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "clinician"], name="worklock_unique_holder")
        ]
        indexes = [models.Index(fields=["clinician", "expires_at"], name="worklock_holder")]

    def __str__(self) -> str:
        return f"Lock on item {self.item_id} by user {self.clinician_id}"


class Appropriateness(models.TextChoices):
    HARMFUL = "harmful", "Harmful"
    INAPPROPRIATE = "inappropriate", "Inappropriate"
    APPROPRIATE = "appropriate", "Appropriate"
    EXCELLENT = "excellent", "Excellent"


class ReplyFlag(models.TextChoices):
    MISSING_VALIDATION = "missing_validation", "Missing validation"
    PROBED_WITHOUT_CONSENT = "probed_without_consent", "Probed without consent"
    TOO_LONG = "too_long", "Too long"
    UNSAFE_SUGGESTION = "unsafe_suggestion", "Unsafe suggestion"
    MEDICAL_OR_LEGAL_ADVICE = "medical_or_legal_advice", "Medical or legal advice"
    WRONG_INTENT = "wrong_intent", "Wrong intent"


class Urgency(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    IMMEDIATE = "immediate", "Immediate"


class SessionRating(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="session_ratings")
    session = models.ForeignKey(
        "conversations.ChatSession", on_delete=models.CASCADE, related_name="+"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    appropriateness = models.CharField(max_length=16, choices=Appropriateness.choices)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "clinician"], name="sessionrating_once")
        ]
        indexes = [
            models.Index(fields=["clinician", "created_at"], name="sessionrating_clinician"),
            models.Index(fields=["created_at"], name="sessionrating_created"),
        ]

    def __str__(self) -> str:
        return f"Rating {self.pk}: {self.appropriateness}"


class ReplyAssessment(models.Model):
    """Per-reply part of a session rating: flags, and whether it validated a distressed user."""

    rating = models.ForeignKey(SessionRating, on_delete=models.CASCADE, related_name="replies")
    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="+")
    flags = models.JSONField(default=list, blank=True)
    validated = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rating", "message"], name="replyassessment_once")
        ]

    def __str__(self) -> str:
        return f"Assessment of message {self.message_id}"


class SafetyLabel(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="safety_labels")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    category = models.CharField(max_length=30, choices=RiskCategory.choices, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    suggestion_shown = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "clinician"], name="safetylabel_once")
        ]
        indexes = [
            models.Index(fields=["clinician", "created_at"], name="safetylabel_clinician"),
            models.Index(fields=["created_at"], name="safetylabel_created"),
        ]

    def __str__(self) -> str:
        return f"Safety label {self.pk}: {self.risk_level}"


class IntentLabel(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="intent_labels")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    intent = models.CharField(max_length=30, choices=Intent.choices)
    suggestion_shown = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "clinician"], name="intentlabel_once")
        ]
        indexes = [
            models.Index(fields=["clinician", "created_at"], name="intentlabel_clinician"),
            models.Index(fields=["created_at"], name="intentlabel_created"),
        ]

    def __str__(self) -> str:
        return f"Intent label {self.pk}: {self.intent}"


class PreferenceCandidate(models.Model):
    """One candidate reply of a preference item. ``meta`` (style, care level, generator) is
    never shown to clinicians: comparisons are blind."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="candidates")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="candidate_unique_position")
        ]

    def __str__(self) -> str:
        return f"Candidate {self.position + 1} of item {self.item_id}"


class PreferenceJudgement(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="judgements")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The clinician's pick (null with ``tie``), and the pick after the unsafe override.
    chosen = models.ForeignKey(
        PreferenceCandidate, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tie = models.BooleanField(default=False)
    effective_chosen = models.ForeignKey(
        PreferenceCandidate, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shown_order = models.JSONField(default=list)  # candidate ids, left to right as shown
    # A pair compared dimension by dimension (the page's one key per dimension), instead of
    # scoring each reply 0-3: ``{dimension: {"better": candidate id or None, "margin": 0-2}}``
    # (margin 0: about the same, 1: somewhat better, 2: clearly better).
    dimension_comparison = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "clinician"], name="preference_once")
        ]
        indexes = [
            models.Index(fields=["clinician", "created_at"], name="preference_clinician"),
            models.Index(fields=["created_at"], name="preference_created"),
        ]

    def __str__(self) -> str:
        return f"Judgement {self.pk} of item {self.item_id}"


class CandidateScore(models.Model):
    judgement = models.ForeignKey(
        PreferenceJudgement, on_delete=models.CASCADE, related_name="scores"
    )
    candidate = models.ForeignKey(PreferenceCandidate, on_delete=models.CASCADE, related_name="+")
    # 0-3 each; null when the judgement compared a pair by dimension (``dimension_comparison``),
    # where the row still carries the "unsafe" mark.
    empathy = models.PositiveSmallIntegerField(null=True, blank=True)
    presence = models.PositiveSmallIntegerField(null=True, blank=True)
    stabilization = models.PositiveSmallIntegerField(null=True, blank=True)
    safety = models.PositiveSmallIntegerField(null=True, blank=True)
    unsafe = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judgement", "candidate"], name="candidatescore_once"),
            models.CheckConstraint(
                condition=models.Q(empathy__lte=3)
                & models.Q(presence__lte=3)
                & models.Q(stabilization__lte=3)
                & models.Q(safety__lte=3),
                name="candidatescore_range_0_3",
            ),
        ]

    def __str__(self) -> str:
        return f"Scores of candidate {self.candidate_id}"


class Adjudication(models.Model):
    """A senior clinician's final decision on an item whose labels disagree."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="adjudications")
    label_set = models.CharField(max_length=40)
    value = models.CharField(max_length=40)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "label_set"], name="adjudication_once")
        ]
        permissions = [("adjudicate", "Can adjudicate label disagreements (senior clinician)")]

    def __str__(self) -> str:
        return f"{self.label_set} of item {self.item_id}: {self.value}"


class MetricValue(models.Model):
    """One computed metric for one day, model version and rollout arm ("" means all)."""

    name = models.CharField(max_length=40)
    day = models.DateField()
    model_version = models.CharField(max_length=100, blank=True, default="")
    rollout_arm = models.CharField(max_length=40, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(default=0)
    denominator = models.FloatField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "day", "model_version", "rollout_arm"], name="metricvalue_unique"
            )
        ]
        indexes = [models.Index(fields=["day", "name"], name="metricvalue_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day} {self.model_version or 'all'}: {self.value}"


class AgreementFigures(models.Model):
    """One label set's agreement figures as the agreement page shows them (kappa, alpha, per
    class, clinician pair and month: ``evaluation.selectors.agreement``), recomputed by the beat
    job every 15 minutes and read by the pages, so that no page waits on the computation."""

    label_set = models.CharField(max_length=40, unique=True)
    figures = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"agreement {self.label_set} at {self.computed_at:%Y-%m-%d %H:%M}"


class AlertRule(models.Model):
    """A monitoring rule (defaults in ``evaluation.services.alerts.DEFAULT_RULES``), editable by
    admins: its threshold, the least evidence it needs, whether it is on and whether it
    e-mails. Every change is audited."""

    key = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=120)
    threshold = models.FloatField(help_text="The limit; see the rule's description for its unit.")
    min_samples = models.PositiveIntegerField(
        default=0, help_text="Fewer observations than this: the rule neither fires nor resolves."
    )
    enabled = models.BooleanField(default=True)
    email = models.BooleanField(default=True, help_text="Also e-mail the on-call addresses.")
    description = models.TextField(blank=True, default="")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title


class MonitoringAlert(models.Model):
    """One firing of a rule for one subject (a model version, an escalation, a queue...).

    At most one alert per (rule, subject) is not resolved; it is acknowledged and resolved by a
    person (audited) or resolved by the evaluating job when its condition clears. Its title and
    detail carry figures and ids, never message text."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    subject = models.CharField(max_length=120, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=200)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True, default="")
    opened_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "-opened_at"], name="alert_status_opened")]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=~models.Q(status="resolved"),
                name="alert_one_unresolved_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk}: {self.title} ({self.status})"


# Frozen test sets and evaluation runs (a module of their own; imported here so Django sees them).
from evaluation.models_evaluation_runs import (  # noqa: E402, F401
    EvaluationPrediction,
    EvaluationRun,
    FrozenSet,
    FrozenSetItem,
    FrozenSetKind,
)
