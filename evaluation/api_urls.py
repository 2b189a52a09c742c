from django.urls import path

from evaluation.apis import (
    agreement,
    alerts,
    audit,
    dialogues,
    escalations,
    imports,
    labels,
    metrics,
    preferences,
    queue,
    ratings,
)

# ``kind`` is one of review | safety | intent | preference (other values: 404).
urlpatterns = [
    path("queues/<str:kind>/items/", queue.QueueItemListApi.as_view(), name="eval-queue-items"),
    path("queues/<str:kind>/next/", queue.QueueNextApi.as_view(), name="eval-queue-next"),
    path(
        "queues/<str:kind>/progress/",
        queue.QueueProgressApi.as_view(),
        name="eval-queue-progress",
    ),
    path("work-items/<int:item_id>/", queue.WorkItemDetailApi.as_view(), name="eval-item"),
    path("work-items/<int:item_id>/lock/", queue.WorkItemLockApi.as_view(), name="eval-item-lock"),
    path(
        "work-items/<int:item_id>/release/",
        queue.WorkItemReleaseApi.as_view(),
        name="eval-item-release",
    ),
    path(
        "work-items/<int:item_id>/session-rating/",
        ratings.SessionRatingCreateApi.as_view(),
        name="eval-session-rating",
    ),
    path(
        "work-items/<int:item_id>/safety-label/",
        labels.SafetyLabelCreateApi.as_view(),
        name="eval-safety-label",
    ),
    path(
        "work-items/<int:item_id>/intent-label/",
        labels.IntentLabelCreateApi.as_view(),
        name="eval-intent-label",
    ),
    path(
        "work-items/<int:item_id>/preference/",
        preferences.PreferenceJudgementCreateApi.as_view(),
        name="eval-preference",
    ),
    path(
        "work-items/<int:item_id>/adjudication/",
        agreement.AdjudicationCreateApi.as_view(),
        name="eval-adjudication",
    ),
    path(
        "escalations/<int:escalation_id>/close/",
        escalations.EscalationCloseApi.as_view(),
        name="eval-escalation-close",
    ),
    path("dialogues/", dialogues.DialogueListApi.as_view(), name="eval-dialogue-list"),
    path("dialogues/create/", dialogues.DialogueCreateApi.as_view(), name="eval-dialogue-create"),
    path("dialogues/import/", imports.ImportApi.as_view(), name="eval-import"),
    path(
        "dialogues/<int:dialogue_id>/", dialogues.DialogueDetailApi.as_view(), name="eval-dialogue"
    ),
    path(
        "dialogues/<int:dialogue_id>/update/",
        dialogues.DialogueUpdateApi.as_view(),
        name="eval-dialogue-update",
    ),
    path(
        "dialogues/<int:dialogue_id>/submit/",
        dialogues.DialogueSubmitApi.as_view(),
        name="eval-dialogue-submit",
    ),
    path(
        "dialogues/<int:dialogue_id>/approve/",
        dialogues.DialogueApproveApi.as_view(),
        name="eval-dialogue-approve",
    ),
    path(
        "dialogues/<int:dialogue_id>/reject/",
        dialogues.DialogueRejectApi.as_view(),
        name="eval-dialogue-reject",
    ),
    path(
        "dialogues/<int:dialogue_id>/variants/",
        dialogues.DialogueVariantCreateApi.as_view(),
        name="eval-dialogue-variant",
    ),
    path("agreement/", agreement.AgreementApi.as_view(), name="eval-agreement"),
    path("disagreements/", agreement.DisagreementListApi.as_view(), name="eval-disagreements"),
    path("audit-events/", audit.AuditEventListApi.as_view(), name="eval-audit-events"),
    path("metrics/", metrics.MetricListApi.as_view(), name="eval-metrics"),
    path("monitoring-alerts/summary/", alerts.AlertSummaryApi.as_view(), name="eval-alert-summary"),
    path(
        "monitoring-alerts/<int:alert_id>/acknowledge/",
        alerts.AlertAcknowledgeApi.as_view(),
        name="eval-alert-acknowledge",
    ),
    path(
        "monitoring-alerts/<int:alert_id>/resolve/",
        alerts.AlertResolveApi.as_view(),
        name="eval-alert-resolve",
    ),
]
