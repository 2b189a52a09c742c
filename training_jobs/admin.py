from django.contrib import admin

from training_jobs.models import ModelVersion, ReleaseEvent, TrainingJob


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "backend",
        "is_active",
        "gate_passed",
        "train_rows",
        "created_at",
    )
    list_filter = ("kind", "backend", "is_active", "gate_passed")
    search_fields = ("name",)
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request):  # versions come from training only
        return False


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "backend", "status", "stage", "progress", "created_at")
    list_filter = ("kind", "backend", "status")
    readonly_fields = [f.name for f in TrainingJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ReleaseEvent)
class ReleaseEventAdmin(admin.ModelAdmin):
    """Read-only: releases change only through their services (docs/releases.md)."""

    list_display = ("id", "release", "kind", "from_stage", "to_stage", "actor", "created_at")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in ReleaseEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
