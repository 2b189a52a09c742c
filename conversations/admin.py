"""Django admin for the chat runtime: admins edit the persona prompt, the fixed safety replies
and the crisis-resource catalogue; sessions and messages are read-only records."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Max

from conversations.models import (
    ChatPreferences,
    ChatSession,
    ClinicianAlert,
    CrisisResource,
    EmergencyReply,
    Escalation,
    Message,
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


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_id", "role", "risk_level", "intent", "emergency", "created_at")
    list_filter = ("role", "risk_level", "intent", "emergency")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_id", "status", "created_at", "notified_at", "closed_at")
    list_filter = ("status",)


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
