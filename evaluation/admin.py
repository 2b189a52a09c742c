"""Django admin for the evaluation app: read-mostly views, import page and export actions."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import (
    audit_event_record,
    export_audit_record,
    labels_view_record,
    transcript_view_record,
)
from ari_review.models import AuditEvent
from ari_review.ttl_cache import APPROVED_INDEX_KEY, ttl_cache_invalidate
from evaluation import exports
from evaluation.models import (
    Adjudication,
    AlertRule,
    IntentLabel,
    MetricValue,
    MonitoringAlert,
    PreferenceJudgement,
    SafetyLabel,
    SeedDialogue,
    SessionRating,
    WorkItem,
)
from evaluation.services.imports.formats import FORMATS, import_file


def _download(content: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S")


# Ids kept in an export's audit event (the count is always kept).
_AUDIT_IDS = 1000


def _audit_export(request, queryset, *, export: str, format: str, rows: int, action: str) -> None:
    """Who exported which selection (the changelist's filters and the selected ids)."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    export_audit_record(
        actor=request.user,
        export=export,
        format=format,
        rows=rows,
        filters={
            "changelist": request.GET.dict(),
            "select_across": request.POST.get("select_across") == "1",
            "selected": len(ids),
            "ids": ids[:_AUDIT_IDS],
        },
        via=f"admin:{action}",
    )


class ImportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS])
    file = forms.FileField()
    dialogues = forms.BooleanField(required=False, help_text="counsel-chat: also draft dialogues")
    intent_items = forms.BooleanField(required=False, help_text="ESConv: also intent items")


@admin.register(SeedDialogue)
class SeedDialogueAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "state", "source", "variant_of", "reviewer", "updated_at")
    list_filter = ("state", "source")
    search_fields = ("title",)
    readonly_fields = (
        "state",
        "reviewer",
        "reviewed_at",
        "review_reason",
        "checklist",
        "created_by",
        "created_at",
        "updated_at",
    )
    actions = ["export_openai_jsonl", "export_seed_json"]
    change_list_template = "evaluation/admin_changelist_import.html"

    def has_add_permission(self, request):
        # Authoring, edits and approvals go through the workspace (validated and audited).
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, SeedDialogue.objects.filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for dialogue in queryset:
            audit_event_record(
                actor=request.user,
                action="dialogue.delete",
                obj=dialogue,
                before={
                    "title": dialogue.title,
                    "messages": dialogue.messages,
                    "state": dialogue.state,
                },
            )
        queryset.delete()
        ttl_cache_invalidate(APPROVED_INDEX_KEY)

    @admin.action(description="Export selected approved dialogues as OpenAI JSONL")
    def export_openai_jsonl(self, request, queryset):
        out = io.StringIO()
        count = exports.dialogues_export_openai(out, queryset)
        _audit_export(
            request,
            queryset,
            export="dialogues",
            format="openai_jsonl",
            rows=count,
            action="export_openai_jsonl",
        )
        self.message_user(request, f"Exported {count} approved dialogue(s).")
        return _download(out.getvalue(), f"dialogues-{_stamp()}.jsonl", "application/jsonl")

    @admin.action(description="Export selected dialogues as seed JSON")
    def export_seed_json(self, request, queryset):
        out = io.StringIO()
        count = exports.dialogues_export_seed(out, queryset)
        _audit_export(
            request,
            queryset,
            export="dialogues",
            format="seed_json",
            rows=count,
            action="export_seed_json",
        )
        return _download(out.getvalue(), f"dialogues-{_stamp()}.json", "application/json")

    def get_urls(self):
        import_view = self.admin_site.admin_view(self.import_view)
        import_view.accepts_uploads = True  # up to ARI_MAX_UPLOAD_BYTES (ari_review.request_edges)
        return [
            path("import/", import_view, name="evaluation_seeddialogue_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = import_file(
                    format=form.cleaned_data["format"],
                    fileobj=upload,
                    filename=upload.name,
                    user=request.user,
                    dialogues=form.cleaned_data["dialogues"],
                    intent_items=form.cleaned_data["intent_items"],
                )
            except ApplicationError as exc:
                messages.error(request, f"Nothing was imported. {exc.message}")
            else:
                messages.success(request, result.summary())
                return redirect("admin:evaluation_seeddialogue_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import"}
        return render(request, "evaluation/admin_import.html", context)


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "reason",
        "priority",
        "reviews_done",
        "required_reviews",
        "source",
        "created_at",
    )
    list_filter = ("kind", "status", "reason", "source")
    raw_id_fields = ("session", "message")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The page shows the item's text and context unmasked: each view is audited."""
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method != "GET" or response.status_code != 200 or not str(object_id).isdigit():
            return response
        item = WorkItem.objects.filter(pk=int(object_id)).select_related("message").first()
        if item is not None:
            transcript_view_record(actor=request.user, via="admin", item=item, masked=False)
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    actions = [
        "export_safety_jsonl",
        "export_safety_csv",
        "export_intent_jsonl",
        "export_intent_csv",
        "export_preferences_jsonl",
    ]

    def _labels(self, request, queryset, kind, fmt):
        out = io.StringIO()
        if fmt == "csv":
            count = exports.labels_export_csv(out, kind=kind, queryset=queryset)
        else:
            count = exports.labels_export_jsonl(out, kind=kind, queryset=queryset)
        _audit_export(
            request,
            queryset,
            export=f"{kind}_labels",
            format=fmt,
            rows=count,
            action=f"export_{kind}_{fmt}",
        )
        if fmt == "csv":
            return _download(out.getvalue(), f"{kind}-labels-{_stamp()}.csv", "text/csv")
        return _download(out.getvalue(), f"{kind}-labels-{_stamp()}.jsonl", "application/jsonl")

    @admin.action(description="Export safety labels of selected items (JSONL)")
    def export_safety_jsonl(self, request, queryset):
        return self._labels(request, queryset, WorkItem.Kind.SAFETY, "jsonl")

    @admin.action(description="Export safety labels of selected items (CSV)")
    def export_safety_csv(self, request, queryset):
        return self._labels(request, queryset, WorkItem.Kind.SAFETY, "csv")

    @admin.action(description="Export intent labels of selected items (JSONL)")
    def export_intent_jsonl(self, request, queryset):
        return self._labels(request, queryset, WorkItem.Kind.INTENT, "jsonl")

    @admin.action(description="Export intent labels of selected items (CSV)")
    def export_intent_csv(self, request, queryset):
        return self._labels(request, queryset, WorkItem.Kind.INTENT, "csv")

    @admin.action(description="Export preference pairs of selected items (JSONL)")
    def export_preferences_jsonl(self, request, queryset):
        out = io.StringIO()
        count = exports.preferences_export(out, queryset)
        _audit_export(
            request,
            queryset,
            export="preferences",
            format="jsonl",
            rows=count,
            action="export_preferences_jsonl",
        )
        return _download(out.getvalue(), f"preferences-{_stamp()}.jsonl", "application/jsonl")


class _ReadOnly(admin.ModelAdmin):
    """Labels, decisions and metrics are written by the workspace only (and audited)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _LabelAdmin(_ReadOnly):
    """A label's page shows who labelled which item how: each view is audited (labels.view)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method != "GET" or response.status_code != 200 or not str(object_id).isdigit():
            return response
        item_id = (
            self.model.objects.filter(pk=int(object_id)).values_list("item_id", flat=True).first()
        )
        if item_id is not None:
            labels_view_record(actor=request.user, item_ids=[item_id], via="admin")
        return response


@admin.register(SessionRating)
class SessionRatingAdmin(_LabelAdmin):
    list_display = ("id", "item", "clinician", "appropriateness", "created_at")
    list_filter = ("appropriateness",)


@admin.register(SafetyLabel)
class SafetyLabelAdmin(_LabelAdmin):
    list_display = ("id", "item", "clinician", "risk_level", "category", "urgency", "created_at")
    list_filter = ("risk_level", "category", "urgency")


@admin.register(IntentLabel)
class IntentLabelAdmin(_LabelAdmin):
    list_display = ("id", "item", "clinician", "intent", "created_at")
    list_filter = ("intent",)


@admin.register(PreferenceJudgement)
class PreferenceJudgementAdmin(_LabelAdmin):
    list_display = ("id", "item", "clinician", "chosen", "tie", "effective_chosen", "created_at")


@admin.register(Adjudication)
class AdjudicationAdmin(_LabelAdmin):
    list_display = ("id", "item", "label_set", "value", "decided_by", "created_at")


@admin.register(MetricValue)
class MetricValueAdmin(_ReadOnly):
    list_display = ("name", "day", "model_version", "rollout_arm", "value", "denominator")
    list_filter = ("name", "model_version", "rollout_arm")


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnly):
    list_display = ("created_at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_id")

    def get_actions(self, request):
        return {}


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Admins edit a rule's threshold, evidence, switch and e-mail; saved through the service
    (audited). Rules are created with their defaults by the monitoring job, never here."""

    list_display = ("key", "title", "threshold", "min_samples", "enabled", "email", "updated_at")
    fields = ("key", "title", "description", "threshold", "min_samples", "enabled", "email")
    readonly_fields = ("key", "title", "description")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from evaluation.services.alerts import alert_rule_update

        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        rule = AlertRule.objects.get(pk=obj.pk)
        try:
            alert_rule_update(rule=rule, actor=request.user, **fields)
        except ApplicationError as exc:
            messages.error(request, str(exc))


@admin.register(MonitoringAlert)
class MonitoringAlertAdmin(_ReadOnly):
    list_display = ("id", "rule", "subject", "status", "value", "opened_at", "resolved_at")
    list_filter = ("status", "rule")
