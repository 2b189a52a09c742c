"""Chat sessions, messages, crisis resources, escalations and the persona prompt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RiskLevel(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class CareLevel(models.TextChoices):
    """The care a turn got, lowest to highest: what Ari did with the message, decided by the
    turn's route (``conversations/services/turn/route.py``: ``care_level_for``)."""

    SUPPORT = "support", "Support"
    CHECK_IN = "check_in", "Support with a safety question"
    SAFETY_CHECK = "safety_check", "Safety-check mode"
    CRISIS = "crisis", "Crisis response"


class RiskCategory(models.TextChoices):
    NONE = "", "None"
    SUICIDAL_IDEATION = "suicidal_ideation", "Suicidal ideation"
    SELF_HARM = "self_harm", "Self-harm"
    HARM_TO_OTHERS = "harm_to_others", "Harm to others"
    CRISIS = "crisis", "Crisis"


class Intent(models.TextChoices):
    VALIDATE = "validate", "Validate"
    PROBE_STORY = "probe_story", "Probe story"
    PROBE_ROOT = "probe_root", "Probe root belief"
    REFRAME = "reframe", "Reframe"
    SUGGEST_EXPERIMENT = "suggest_experiment", "Suggest experiment"
    OFFER_MINDFULNESS = "offer_mindfulness", "Offer mindfulness"
    SAFETY_CHECK = "safety_check", "Safety check"
    EMERGENCY = "emergency", "Emergency"
    CLOSE = "close", "Close"
    OTHER = "other", "Other"


class SessionType(models.TextChoices):
    CHECK_IN = "check_in", "Check-in"
    GENTLE_DEEP = "gentle_deep", "Gentle deep dive"
    MICRO_PRACTICE = "micro_practice", "Micro practice"


class SafetyResolution(models.TextChoices):
    USER_SAFE = "user_safe", "User said they are safe"
    CLINICIAN_CLOSED = "clinician_closed", "Clinician closed the escalation"


class SessionLength(models.TextChoices):
    SHORT = "short", "Short (about 5 minutes)"
    STANDARD = "standard", "Standard (about 15 minutes)"
    LONG = "long", "Long (about 30 minutes)"


class Tone(models.TextChoices):
    GENTLE = "gentle", "Gentle"
    WARM = "warm", "Warm and encouraging"
    DIRECT = "direct", "Calm and direct"


class ChatPreferences(models.Model):
    """An end user's defaults for new sessions (each session keeps its own copy)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_preferences"
    )
    session_length = models.CharField(
        max_length=10, choices=SessionLength.choices, default=SessionLength.STANDARD
    )
    tone = models.CharField(max_length=10, choices=Tone.choices, default=Tone.GENTLE)
    # Whose crisis lines to show (a CrisisResource.locale); blank: the browser's region.
    crisis_region = models.CharField(max_length=10, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Chat preferences of user {self.user_id}"

    def as_dict(self) -> dict:
        return {"session_length": self.session_length, "tone": self.tone}


class ChatSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ENDED = "ended", "Ended"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions"
    )
    session_type = models.CharField(max_length=20, choices=SessionType.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    flow_step = models.CharField(max_length=30, blank=True, default="")
    preferences = models.JSONField(default=dict, blank=True)
    # Safety state: once high risk is seen, later turns keep checking safety until resolved.
    safety_mode = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False, db_index=True)
    max_risk_level = models.CharField(
        max_length=10, choices=RiskLevel.choices, default=RiskLevel.NONE, db_index=True
    )
    min_safety_confidence = models.FloatField(null=True, blank=True)
    summary = models.TextField(blank=True, default="")
    rating_stars = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True, default="")
    rated_at = models.DateTimeField(null=True, blank=True)
    # Which crisis-resource catalogue applies (CrisisResource.locale).
    locale = models.CharField(max_length=10, default="US")
    # The summary of the user's previous session, handed to the generator on every turn.
    previous_summary = models.TextField(blank=True, default="")
    safety_mode_since = models.DateTimeField(null=True, blank=True)
    safety_resolved_at = models.DateTimeField(null=True, blank=True)
    safety_resolution = models.CharField(
        max_length=20, choices=SafetyResolution.choices, blank=True, default=""
    )
    # The release and arm that served the session's last turn (docs/releases.md).
    release = models.ForeignKey(
        "conversations.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rollout_arm = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.session_type})"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Ari"

    # Indexed by the (session, id) and (session, created_at) indexes below.
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reply"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # ``text`` as clinicians read it (``ari_review.privacy.masking.mask_text``), stored the first
    # time a page shows it (``message_texts_masked``) so later pages do not mask it again;
    # ``text_masked_version`` is the masking's version it was made with (0: not yet masked).
    text_masked = models.TextField(blank=True, default="")
    text_masked_version = models.PositiveSmallIntegerField(default=0)
    # User messages: the safety assessment.
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True, default="")
    risk_category = models.CharField(
        max_length=30, choices=RiskCategory.choices, blank=True, default=""
    )
    risk_score = models.FloatField(null=True, blank=True)
    risk_urgency = models.CharField(max_length=20, blank=True, default="")
    safety_rule_hits = models.JSONField(default=list, blank=True)
    # Why the screen decided as it did, beyond the score: the nearest exemplar
    # {"id", "family", "risk_level", "similarity"} (see RiskExemplar).
    risk_reason = models.JSONField(default=dict, blank=True)
    # The turn's care level, on the user message (the turn) once its reply is stored; "" for a
    # turn without a reply and for Ari's own messages.
    care_level = models.CharField(max_length=20, choices=CareLevel.choices, blank=True, default="")
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    # Assistant messages: what produced the reply and what the filter did.
    emergency = models.BooleanField(default=False)
    intent = models.CharField(max_length=30, choices=Intent.choices, blank=True, default="")
    intent_score = models.FloatField(null=True, blank=True)
    filter_hits = models.JSONField(default=list, blank=True)
    filter_version = models.CharField(max_length=20, blank=True, default="")
    latency_ms = models.JSONField(default=dict, blank=True)
    model_versions = models.JSONField(default=dict, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    flow_step = models.CharField(max_length=30, blank=True, default="")
    # Crisis resources shown with this reply (a snapshot of catalogue entries).
    resources = models.JSONField(default=list, blank=True)
    # Replies the user can send with one tap (safety-check mode: "I'm safe right now"...).
    suggested_replies = models.JSONField(default=list, blank=True)
    # Both roles: the release and the arm ("control" or "canary") that served this turn.
    release = models.ForeignKey(
        "conversations.Release",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    rollout_arm = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["session", "created_at"]),
            # A chat turn's history: the session's last messages before the new one, by id.
            models.Index(fields=["session", "id"], name="message_session_history_idx"),
            # The release monitor's per-arm metrics.
            models.Index(fields=["release", "rollout_arm", "role"], name="message_release_arm_idx"),
            # The dataset browser's filters, newest first (keyset on id): a rare level or intent
            # is read from its own index instead of scanning back through every turn.
            models.Index(
                fields=["risk_level", "id"],
                condition=models.Q(role="user"),
                name="message_turn_risk_idx",
            ),
            models.Index(
                fields=["care_level", "id"],
                condition=models.Q(role="user"),
                name="message_turn_care_idx",
            ),
            models.Index(
                fields=["intent", "reply_to"],
                condition=models.Q(role="assistant"),
                name="message_reply_intent_idx",
            ),
            # The intent labelling queue's candidates, least certain first, read by keyset
            # (evaluation/services/queues/labelling.py).
            models.Index(
                fields=["intent_score", "-id"],
                condition=models.Q(role="assistant", emergency=False, intent_score__isnull=False),
                name="message_reply_uncertain_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.role})"


class CrisisResource(models.Model):
    """The only crisis resources Ari may ever show. Loaded from a fixture, edited by admins."""

    locale = models.CharField(max_length=10, default="US", db_index=True)
    name = models.CharField(max_length=200)
    contact = models.CharField(
        max_length=200, help_text="How to reach it, e.g. 'Call or text 988'."
    )
    phone = models.CharField(max_length=40, blank=True, default="")
    sms = models.CharField(max_length=80, blank=True, default="")
    url = models.URLField(blank=True, default="")
    hours = models.CharField(max_length=100, default="24/7")
    source_url = models.URLField()
    last_verified = models.DateField(
        help_text="When the number and hours were last checked against the source address."
    )
    verified_by = models.CharField(
        max_length=150,
        blank=True,
        default="",
        help_text="Who checked it on this installation; blank: never checked here.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["locale", "position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.locale})"


class NotificationStatus(models.TextChoices):
    """How far an escalation's e-mails got (``Escalation.notification_status``)."""

    QUEUED = "queued", "E-mail pending"
    SENT = "sent", "E-mailed"
    FAILED = "failed", "No one notified by e-mail: every e-mail failed"
    NO_RECIPIENTS = "no_recipients", "No one notified by e-mail: no on-call address"


class Escalation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="escalations")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="escalations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, default="")
    # When the first notification (see Notification) was actually delivered; null until then.
    notified_at = models.DateTimeField(null=True, blank=True)
    notification_status = models.CharField(
        max_length=15, choices=NotificationStatus.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"Escalation {self.pk} ({self.status})"


class ClinicianAlert(models.Model):
    """An in-app alert for on-call clinicians (shown in the navigation until read)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="alerts")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_alerts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "recipient"], name="clinician_alert_unique_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk} for escalation {self.escalation_id}"


class PersonaPrompt(models.Model):
    """Ari's persona prompt, versioned; the newest active version is used."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Persona prompt v{self.version}"


SAFETY_MODE_VARIANTS = "\n".join(
    [
        "Thank you for staying with me. Before we go on, I'd like to know how you are: are you "
        "safe right now? You can tap one of the answers below or tell me in your own words.",
        "I'm here, and I'm listening. The crisis resources stay right below whenever you want "
        "them. Would you tell me whether you're safe at this moment?",
        "It sounds like a lot to carry, and you don't have to carry it alone while we talk. Are "
        "you safe right now, or would it help to see the resources again?",
    ]
)
# The emergency reply said again in a session (after the user said they were safe and the
# mode ended, a new message read as high): other words, written by writer w11 (reply bank
# conventions), each checking in again without dismissing the message and asking about safety;
# the first ones share no sentence with the emergency text (no sentence twice in a session).
EMERGENCY_VARIANTS = "\n".join(
    [
        "Something in your last message made me want to pause and check on you again. If I've "
        "misunderstood it, that's okay, and I still want to take it seriously. I'm still "
        "here, and if you want to talk to someone right now, the services below are open any "
        "time. Right now, are you safe?",
        "I'm still here, and I want to come back to how you're doing after what you just "
        "shared. It's possible I took it the wrong way, but it matters enough to ask. You can "
        "reach the services below whenever you want to talk to a person. Can you tell me if "
        "you're safe at the moment?",
        "What you just wrote made me want to check on you again. Things can change, and I "
        "might also be misreading you, so I'm asking rather than guessing. I'm still here "
        "with you. The services below are available any time you'd like to talk with someone "
        "now. Are you in a safe place right now?",
        "Before anything else, I want to check in again because of your last message. Maybe I "
        "read more into it than you meant, and I don't want to brush it aside either. The "
        "services below are there whenever you'd like to talk to someone, and I'm still right "
        "here. Are you feeling safe right now?",
        "I want to check in again because of what you just wrote. I might have read it wrong, "
        "but I'd rather ask than miss something. The services below are there any time if "
        "you'd like to talk to someone now, and I'm still here with you. Are you safe right "
        "now?",
        "Thank you for telling me what you did. Reading it, I want to check in with you once "
        "more; I may have got it wrong, and I'd still rather ask. If talking to someone would "
        "help now, the services below are there any time. I am still here and not going "
        "anywhere. Are you safe right now?",
    ]
)
SAFETY_RESOLVED_VARIANTS = "\n".join(
    [
        "Thanks for letting me know you're safe. The support options stay here if anything "
        "changes. Would you like to carry on where we were?",
        "I'm glad to hear you're safe right now, and thank you for saying so. Whenever you're "
        "ready, we can pick up where we left off.",
        "Thank you for telling me. It's good to know you're safe, and the resources are still "
        "here whenever you want them. What would you like to talk about now?",
    ]
)
SAFETY_CLARIFY_VARIANTS = "\n".join(
    [
        "Thanks for letting me know, and I'm sorry if I read you wrong. I'd still like to be "
        "sure: are you safe right now?",
        "I hear you, and I may have misunderstood. So that I don't miss something important: "
        "are you safe at the moment?",
    ]
)
SAFETY_REMINDER_VARIANTS = "\n".join(
    [
        "I hear how heavy this is, and I'm still here with you. The people in the resources I "
        "shared can help at any hour if you'd like to reach out. Are you safe right now?",
        "Thank you for telling me this. You don't have to go through it alone: the resources "
        "with my earlier message are there any time. Are you safe at this moment?",
    ]
)


class EmergencyReply(models.Model):
    """The fixed, admin-editable replies of the safety flow (newest active row is used).

    None of these texts is ever generated: they are written and edited by people.
    """

    text = models.TextField(help_text="The emergency reply to a high-risk message.")
    emergency_variants = models.TextField(
        blank=True,
        default=EMERGENCY_VARIANTS,
        help_text="Other wordings of the emergency reply, one per line, said when it comes a "
        "second time in a session (after the user said they were safe); each asks whether the "
        "person is safe.",
    )
    safety_mode_text = models.TextField(
        help_text="Shown on later turns while the session stays in safety-check mode."
    )
    medium_risk_text = models.TextField(
        default="I want to check in gently: are you safe right now?",
        help_text="The gentle safety check added to replies at medium risk.",
    )
    safety_resolved_text = models.TextField(
        default=(
            "Thank you for telling me. I'm really glad you're safe right now. The resources "
            "stay right here if things change. Would you like to keep talking?"
        ),
        help_text="The reply when the user says they are safe and safety-check mode ends.",
    )
    safety_reminder_text = models.TextField(
        default=(
            "I hear you, and I'm still right here with you. The people listed with my earlier "
            "message are there for you right now, any time of day or night, if you'd like to "
            "reach out. Are you safe right now?"
        ),
        help_text="A new high-risk message while already in safety-check mode: short, pointing "
        "back to the resources instead of repeating them.",
    )
    safety_clarify_text = models.TextField(
        default=(
            "Thank you for telling me, and I'm sorry if I got that wrong. I'd rather check than "
            "miss something important, so let me ask just once more: are you safe right now?"
        ),
        help_text="In safety-check mode, when the user says they were misunderstood or joking, "
        "or answers without saying whether they are safe.",
    )
    # Other wordings of the texts safety-check mode may say on turn after turn, one per line:
    # Ari says a wording not yet said in the session (the one said longest ago when all were),
    # so a person is never met with the same words every turn. Each must ask about safety.
    safety_mode_variants = models.TextField(
        blank=True,
        default=SAFETY_MODE_VARIANTS,
        help_text="Other wordings of the safety-mode text, one per line; each asks whether "
        "the person is safe.",
    )
    safety_clarify_variants = models.TextField(
        blank=True,
        default=SAFETY_CLARIFY_VARIANTS,
        help_text="Other wordings of the clarifying text, one per line; each asks whether the "
        "person is safe.",
    )
    safety_resolved_variants = models.TextField(
        blank=True,
        default=SAFETY_RESOLVED_VARIANTS,
        help_text="Other wordings of the reply when the user says they are safe, one per line "
        "(a second time in a session is said in other words).",
    )
    safety_reminder_variants = models.TextField(
        blank=True,
        default=SAFETY_REMINDER_VARIANTS,
        help_text="Other wordings of the reminder, one per line; each asks whether the person "
        "is safe.",
    )
    safety_closed_text = models.TextField(
        default=(
            "Hi again. A member of our care team has checked in on this conversation. I'm here "
            "whenever you'd like to keep talking, and the resources stay available at any time."
        ),
        help_text="Posted in the chat when a clinician closes the escalation and safety-check "
        "mode ends.",
    )
    unavailable_text = models.TextField(
        default=(
            "I'm here with you, and I want to hear more. Could you tell me a little more "
            "about what's on your mind?"
        ),
        help_text="The last-resort reply when no generator and no approved content is available.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "fixed safety reply"
        verbose_name_plural = "fixed safety replies"

    def __str__(self) -> str:
        return f"Fixed safety replies #{self.pk}"

    @staticmethod
    def variants_field(field: str) -> str:
        """The name of the field holding ``field``'s other wordings."""
        return "emergency_variants" if field == "text" else field.replace("_text", "_variants")

    def wordings(self, field: str) -> list[str]:
        """``field``'s text, then its admin-written variants (``<name>_variants``, if any)."""
        base = getattr(self, field)
        variants = getattr(self, self.variants_field(field), "") or ""
        return [base, *(line.strip() for line in variants.splitlines() if line.strip())]


class RiskSignal(models.Model):
    """A risk signal clinicians added in the workspace, beside ``risk_signals.yaml``.

    Same format and validation as an entry of the file (``phrases`` is its ``all`` groups);
    it raises risk only, applies without retraining (within ``ARI_CONFIG_CACHE_SECONDS`` in
    every process) and every change is audited. Hits are recorded on the turn with ``entry_id``.
    """

    entry_id = models.CharField(max_length=80, unique=True)
    level = models.CharField(max_length=10, choices=[("medium", "medium"), ("high", "high")])
    category = models.CharField(max_length=20, choices=RiskCategory.choices)
    langs = models.JSONField(default=list)
    phrases = models.JSONField(default=list)  # groups of phrases; every group must match
    window = models.PositiveSmallIntegerField(default=10)
    note = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry_id"]

    def __str__(self) -> str:
        return self.entry_id

    def as_entry(self) -> dict:
        """The entry as the signal file writes it (what ``compile_entry`` reads)."""
        return {
            "id": self.entry_id,
            "level": self.level,
            "category": self.category,
            "langs": list(self.langs),
            "all": [list(group) for group in self.phrases],
            "window": self.window,
        }


class RiskExemplar(models.Model):
    """An example message of a risk family (or of a hard negative): the safety screen stores
    the nearest one on every user turn, and reviewers see it as the reason for the decision.

    Shipped exemplars come from the training data (``conversations/fixtures/risk_exemplars.jsonl``);
    clinicians add labelled messages from the workspace in one action (masked, audited).
    """

    class Source(models.TextChoices):
        SHIPPED = "shipped", "Shipped"
        WORKSPACE = "workspace", "Added in the workspace"

    text = models.TextField()
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    family = models.CharField(max_length=40)
    lang = models.CharField(max_length=5, default="en")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WORKSPACE)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family", "id"]
        constraints = [models.UniqueConstraint(fields=["text"], name="risk_exemplar_text_unique")]

    def __str__(self) -> str:
        return f"{self.family} ({self.risk_level}) #{self.pk}"


class Notification(models.Model):
    """One message about an escalation (or a monitoring alert) to one recipient: the outbox of
    on-call e-mails.

    Written in the escalation's transaction, delivered by ``notifications_dispatch`` (a Celery
    task queued on commit, and the beat sweep every minute), so a dead broker or mail server
    delays a notification but never loses it. Carries ids only; the text is built when sent.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    # The escalation it is about; null for a monitoring alert's e-mail (subject and body then
    # carry its text: figures and ids, never message text or identities).
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # The on-call user it was written for (null for ONCALL_EMAILS addresses), and the address.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "channel", "address"], name="notification_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"Notification {self.pk} ({self.channel}, {self.status})"


class ReleaseStage(models.TextChoices):
    """draft -> staging -> canary 5/25/50 -> live (100%) -> retired; rolled back from any."""

    DRAFT = "draft", "Draft"
    STAGING = "staging", "Staging (shadow)"
    CANARY_5 = "canary_5", "Canary 5%"
    CANARY_25 = "canary_25", "Canary 25%"
    CANARY_50 = "canary_50", "Canary 50%"
    LIVE = "live", "Live (100%)"
    RETIRED = "retired", "Retired"
    ROLLED_BACK = "rolled_back", "Rolled back"


# Stages in which a release is the candidate (exactly one at a time), and their canary share.
RELEASE_IN_FLIGHT: dict[str, int] = {
    ReleaseStage.STAGING: 0,
    ReleaseStage.CANARY_5: 5,
    ReleaseStage.CANARY_25: 25,
    ReleaseStage.CANARY_50: 50,
}


class ReleaseContentKind(models.TextChoices):
    FILTER_RULES = "filter_rules", "Response-filter rule set"
    RISK_SIGNALS = "risk_signals", "Risk-signal file"


class ReleaseContent(models.Model):
    """A response-filter rule set or a risk-signal file as a release carries it: the YAML text,
    content-addressed (the same text of a kind is stored once) and never edited (a change is a
    new row, so a release's contents cannot move under it). Compiled per process by sha256
    (``conversations.services.release_contents``)."""

    kind = models.CharField(max_length=20, choices=ReleaseContentKind.choices)
    version = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sha256"], name="release_content_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.version} ({self.sha256[:12]})"


class Release(models.Model):
    """What changes what a user receives, versioned and staged together (docs/releases.md).

    The chat runtime reads it (``conversations.rollout``: which release and arm serve a turn);
    the release management (gate, promotion, rollback, monitor) is in ``training_jobs.releases``.
    The model versions are references to the registry; the generation configuration, the
    response-filter rule set and the risk-signal file are snapshots of what was in force.
    """

    name = models.CharField(max_length=100, unique=True)
    stage = models.CharField(
        max_length=12, choices=ReleaseStage.choices, default=ReleaseStage.DRAFT, db_index=True
    )
    safety_version = models.ForeignKey(
        "training_jobs.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    intent_version = models.ForeignKey(
        "training_jobs.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    generation_config = models.JSONField(default=dict, blank=True)
    filter_ruleset_version = models.CharField(max_length=40, blank=True, default="")
    risk_signals_version = models.CharField(max_length=40, blank=True, default="")
    # The rule set and the signal file it serves (the versions above are theirs); None on a
    # release created before releases carried them: it serves the shipped files.
    filter_rules = models.ForeignKey(
        ReleaseContent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    risk_signals = models.ForeignKey(
        ReleaseContent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True, default="")
    # The release at 100% when this one entered staging: the one it is compared with.
    incumbent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    rollback_reason = models.TextField(blank=True, default="")
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    # The monitor's last comparison of the arms (metrics, tests, verdict).
    last_check = models.JSONField(default=dict, blank=True)
    # The smoke tests run on entering staging (training_jobs.releases.smoke): status, each
    # check's result and the evaluation runs they started.
    smoke_tests = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage"], condition=models.Q(stage="live"), name="release_one_live"
            ),
            # One candidate at a time: a unique index on a constant, over the in-flight rows.
            models.UniqueConstraint(
                models.Value(1),
                condition=models.Q(stage__in=["staging", "canary_5", "canary_25", "canary_50"]),
                name="release_one_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def canary_percent(self) -> int:
        if self.stage == ReleaseStage.LIVE:
            return 100
        return RELEASE_IN_FLIGHT.get(self.stage, 0)

    @property
    def in_flight(self) -> bool:
        return self.stage in RELEASE_IN_FLIGHT
