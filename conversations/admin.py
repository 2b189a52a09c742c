"""Django admin for the chat runtime: admins edit the persona prompt, the fixed safety replies
and the crisis-resource catalogue; sessions and messages are read-only records. The sessions
page links to the generation circuit breakers (read-only state, and a reset for admins)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.shortcuts import redirect, render
from django.urls import path

from ari_review.roles import ADMIN, user_has_role
from conversations.backends.generation.breaker import breaker_reset, generation_health
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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("role", "text", "risk_level", "intent", "emergency", "flow_step", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdmin):
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
    exclude = ("user",)  # pseudonymous in the admin too: ids, not identities
    change_list_template = "conversations/admin_session_changelist.html"

    def get_urls(self):
        return [
            path(
                "generation/",
                self.admin_site.admin_view(self.generation_view),
                name="conversations_generation_breakers",
            ),
            *super().get_urls(),
        ]

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
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_id", "role", "risk_level", "intent", "emergency", "created_at")
    list_filter = ("role", "risk_level", "intent", "emergency")


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


@admin.register(CrisisResource)
class CrisisResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "locale", "contact", "hours", "last_verified", "active", "position")
    list_filter = ("locale", "active")
    list_editable = ("active", "position")


class VersionedTextAdmin(admin.ModelAdmin):
    """Saving an edit stores a new row, so every version stays on record."""

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


@admin.register(EmergencyReply)
class EmergencyReplyAdmin(VersionedTextAdmin):
    list_display = ("id", "active", "created_at")

    def _new_version(self, request, obj):
        return None


@admin.register(ChatPreferences)
class ChatPreferencesAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_length", "tone", "updated_at")
    exclude = ("user",)
