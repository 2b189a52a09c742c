"""Django admin for the chat runtime: admins edit the persona prompt, the fixed safety replies
and the crisis-resource catalogue; sessions and messages are read-only records. The sessions
page links to the generation circuit breakers (read-only state, and a reset for admins).

What users wrote is shown masked (``ari_review.privacy.masking.mask_text``), as in the clinician
workspace; a session's "Reveal unmasked text" page shows it as written to a clinician or admin
who gives a reason, and audits it (``transcript.reveal``; docs/privacy.md)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record, transcript_view_record
from ari_review.privacy.masking import mask_text
from ari_review.roles import ADMIN, CLINICIAN, user_has_role
from conversations.backends.generation.breaker import breaker_reset, generation_health
from conversations.catalogue import STALE_AFTER, verification_is_stale
from conversations.models import (
    ChatPreferences,
    ChatSession,
    ClinicianAlert,
    CrisisResource,
    EmergencyReply,
    Escalation,
    Message,
    Notification,
    PersonaPrompt,
)
from conversations.services.filter.cues import text_has_safety_question
from conversations.services.privacy import (
    REVEAL_REASON_MAX_CHARS,
    REVEAL_REASON_MIN_CHARS,
    transcript_reveal,
)
from conversations.services.turn.generate import SAFETY_MODE_WORDING_FIELDS


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _transcript_reveal_audit(request, response, *, session_id, message_id=None) -> None:
    """Each view of these admin pages is audited (transcript.view). They show what users wrote
    masked; unmasked text is only on the reveal page, which audits transcript.reveal."""
    if request.method == "GET" and response.status_code == 200 and session_id is not None:
        transcript_view_record(
            actor=request.user,
            via="admin",
            session_id=session_id,
            message_id=message_id,
            masked=True,
        )


def _masked_provenance(provenance: dict | None) -> dict:
    """A reply's provenance with the pre-filter text (it may echo the user's words) masked."""
    provenance = dict(provenance or {})
    if isinstance(provenance.get("unfiltered_text"), str):
        provenance["unfiltered_text"] = mask_text(provenance["unfiltered_text"])
    return provenance


class MaskedTextMixin:
    """Read-only displays of what a user wrote, masked."""

    @admin.display(description="text (masked)")
    def masked_text(self, obj):
        return mask_text(obj.text)

    @admin.display(description="provenance (masked)")
    def masked_provenance(self, obj):
        return _masked_provenance(obj.provenance)

    @admin.display(description="summary (masked)")
    def masked_summary(self, obj):
        return mask_text(obj.summary)

    @admin.display(description="previous summary (masked)")
    def masked_previous_summary(self, obj):
        return mask_text(obj.previous_summary)

    @admin.display(description="rating comment (masked)")
    def masked_rating_comment(self, obj):
        return mask_text(obj.rating_comment)


def can_reveal(user) -> bool:
    """Who may see a transcript unmasked, with a reason: clinicians, admins, superusers."""
    return bool(user.is_superuser or user_has_role(user, CLINICIAN, ADMIN))


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=REVEAL_REASON_MIN_CHARS,
        max_length=REVEAL_REASON_MAX_CHARS,
        strip=True,
        help_text=(
            "Why you need the unmasked text (e.g. the escalation you are following up). "
            "It is kept in the audit log with your name and the session id."
        ),
        widget=forms.TextInput(attrs={"size": 80, "autocomplete": "off"}),
    )


class MessageInline(MaskedTextMixin, admin.TabularInline):
    model = Message
    fields = (
        "role",
        "masked_text",
        "risk_level",
        "intent",
        "emergency",
        "flow_step",
        "created_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(MaskedTextMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "session_type",
        "status",
        "flagged",
        "safety_mode",
        "max_risk_level",
        "rating_stars",
        "created_at",
    )
    list_filter = ("session_type", "status", "flagged", "safety_mode", "max_risk_level")
    inlines = [MessageInline]
    # Pseudonymous in the admin too (ids, not identities); what the user wrote is masked.
    exclude = ("user", "summary", "previous_summary", "rating_comment")
    readonly_fields = ("masked_summary", "masked_previous_summary", "masked_rating_comment")
    change_list_template = "conversations/admin_session_changelist.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if str(object_id).isdigit():
            _transcript_reveal_audit(request, response, session_id=int(object_id))
        return response

    change_form_template = "conversations/admin_session_change_form.html"

    def get_urls(self):
        return [
            path(
                "generation/",
                self.admin_site.admin_view(self.generation_view),
                name="conversations_generation_breakers",
            ),
            path(
                "<int:session_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="conversations_chatsession_reveal",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_reveal"] = can_reveal(request.user)
        return super().render_change_form(request, context, *args, **kwargs)

    def reveal_view(self, request, session_id: int):
        """The session's text as written, for a reason (required; audited on every reveal)."""
        if not self.has_view_permission(request) or not can_reveal(request.user):
            raise PermissionDenied
        session = ChatSession.objects.filter(pk=session_id).only("pk", "session_type").first()
        if session is None:
            raise Http404("No such session.")
        form = RevealForm(request.POST if request.method == "POST" else None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            try:
                revealed = transcript_reveal(
                    actor=request.user,
                    session_id=session.pk,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                form.add_error("reason", exc.message)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Unmasked text of session {session.pk}",
            "opts": self.model._meta,
            "original": session,
            "form": form,
            "revealed": revealed,
            "reason_max": REVEAL_REASON_MAX_CHARS,
        }
        status = 400 if request.method == "POST" and revealed is None else 200
        return render(request, "conversations/admin_transcript_reveal.html", context, status=status)

    def generation_view(self, request):
        """The generation backends' circuit breakers; admins may close one (POST ``reset``)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_reset = request.user.is_superuser or user_has_role(request.user, ADMIN)
        if request.method == "POST":
            if not can_reset:
                raise PermissionDenied
            breaker_id = request.POST.get("reset") or None
            count = breaker_reset(breaker_id=None if breaker_id == "all" else breaker_id)
            audit_event_record(
                actor=request.user,
                action="generation_breaker.reset",
                object_type="conversations.generation_breaker",
                object_id=(breaker_id or "all")[:64],
                after={"reset": count},
            )
            messages.success(request, f"Reset {count} breaker(s).")
            return redirect("admin:conversations_generation_breakers")
        health = generation_health()
        context = {
            **self.admin_site.each_context(request),
            "title": "Generation circuit breakers",
            "health": health,
            "can_reset": can_reset,
            "failures_to_open": settings.ARI_GENERATION_BREAKER_FAILURES,
            "cooldown_s": settings.ARI_GENERATION_BREAKER_COOLDOWN_S,
        }
        return render(request, "conversations/admin_generation.html", context)


@admin.register(Message)
class MessageAdmin(MaskedTextMixin, ReadOnlyAdmin):
    list_display = ("id", "session_id", "role", "risk_level", "intent", "emergency", "created_at")
    list_filter = ("role", "risk_level", "intent", "emergency")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if str(object_id).isdigit():
            session_id = (
                Message.objects.filter(pk=int(object_id))
                .values_list("session_id", flat=True)
                .first()
            )
            _transcript_reveal_audit(
                request, response, session_id=session_id, message_id=int(object_id)
            )
        return response

    # Masked like the transcript; the session's reveal page shows the text as written.
    exclude = ("text", "provenance")
    readonly_fields = ("masked_text", "masked_provenance")


class NotificationInline(admin.TabularInline):
    model = Notification
    fields = (
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "session_id",
        "status",
        "created_at",
        "notification_status",
        "notified_at",
        "closed_at",
    )
    list_filter = ("status", "notification_status")
    inlines = [NotificationInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox of escalation e-mails: what was sent, what is retried, what was given up."""

    list_display = (
        "id",
        "escalation_id",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
    )
    list_filter = ("status", "channel")
    exclude = ("recipient",)


@admin.register(ClinicianAlert)
class ClinicianAlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "escalation_id", "recipient", "created_at", "read_at")


class VerificationFilter(admin.SimpleListFilter):
    """Entries due a check: not verified for 12 months, or never verified on this installation."""

    title = "verification"
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return (("stale", "Not verified for 12 months"), ("never_here", "Never verified here"))

    def queryset(self, request, queryset):
        if self.value() == "stale":
            return queryset.filter(last_verified__lt=timezone.localdate() - STALE_AFTER)
        if self.value() == "never_here":
            return queryset.filter(verified_by="")
        return queryset


@admin.register(CrisisResource)
class CrisisResourceAdmin(admin.ModelAdmin):
    """The catalogue (shipped in conversations/fixtures/crisis_resources.yaml). An entry not
    verified for 12 months is flagged; "Mark as verified today" records who checked it (the
    edit is audited as every admin change is)."""

    list_display = (
        "name",
        "locale",
        "contact",
        "hours",
        "last_verified",
        "verification",
        "verified_by",
        "active",
        "position",
    )
    list_filter = ("locale", "active", VerificationFilter)
    list_editable = ("active", "position")
    actions = ("mark_verified_today",)

    @admin.display(description="Verification")
    def verification(self, obj):
        if verification_is_stale(obj.last_verified, today=timezone.localdate()):
            return "\u26a0 Not verified for 12 months: check it at its source"
        if not obj.verified_by:
            return "Never verified on this installation"
        return "OK"

    @admin.action(description="Mark as verified today (I checked each at its source address)")
    def mark_verified_today(self, request, queryset):
        today = timezone.localdate()
        for resource in queryset:
            before = {"last_verified": str(resource.last_verified), "by": resource.verified_by}
            resource.last_verified = today
            resource.verified_by = request.user.get_username()
            resource.save(update_fields=["last_verified", "verified_by"])
            audit_event_record(
                actor=request.user,
                action="crisis_resource.verify",
                obj=resource,
                before=before,
                after={"last_verified": str(today), "by": resource.verified_by},
            )
        self.message_user(request, f"{queryset.count()} entr(y/ies) marked as verified today.")


class VersionedTextAdmin(admin.ModelAdmin):
    """Saving an edit stores a new row, so every version stays on record."""

    def _new_version(self, request, obj):
        """Set what a new version row needs (subclasses: its number, who wrote it)."""
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if change:
            obj.pk = None
            obj._state.adding = True
            self._new_version(request, obj)
        super().save_model(request, obj, form, change=False)


@admin.register(PersonaPrompt)
class PersonaPromptAdmin(VersionedTextAdmin):
    list_display = ("version", "active", "created_by", "created_at")
    readonly_fields = ("version", "created_by", "created_at")

    def _new_version(self, request, obj):
        obj.version = (PersonaPrompt.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        obj.created_by = request.user

    def save_model(self, request, obj, form, change):
        if not change:
            self._new_version(request, obj)
        super().save_model(request, obj, form, change)


class EmergencyReplyForm(forms.ModelForm):
    """Every wording that safety-check mode (or a second emergency reply) may say instead of a
    text still asks about safety."""

    class Meta:
        model = EmergencyReply
        fields = "__all__"  # noqa: DJ007 - the admin edits every text of the fixed replies

    def clean(self):
        cleaned = super().clean() or {}
        for field in (*SAFETY_MODE_WORDING_FIELDS, "text"):
            variants = EmergencyReply.variants_field(field)
            for line in (cleaned.get(variants) or "").splitlines():
                if line.strip() and not text_has_safety_question(line):
                    self.add_error(
                        variants, f"This wording does not ask whether the person is safe: {line!r}"
                    )
        return cleaned


@admin.register(EmergencyReply)
class EmergencyReplyAdmin(VersionedTextAdmin):
    form = EmergencyReplyForm
    list_display = ("id", "active", "created_at")

    def _new_version(self, request, obj):
        return None


@admin.register(ChatPreferences)
class ChatPreferencesAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_length", "tone", "updated_at")
    exclude = ("user",)
