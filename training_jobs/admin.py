from django.contrib import admin

from training_jobs.models import ModelVersion, TrainingJob


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
