from django.urls import path

from evaluation import apis

# ``kind`` is one of review | safety | intent | preference (other values: 404).
urlpatterns = [
    path("queues/<str:kind>/items/", apis.QueueItemListApi.as_view(), name="eval-queue-items"),
    path("queues/<str:kind>/next/", apis.QueueNextApi.as_view(), name="eval-queue-next"),
    path(
        "queues/<str:kind>/progress/",
        apis.QueueProgressApi.as_view(),
        name="eval-queue-progress",
    ),
    path("work-items/<int:item_id>/", apis.WorkItemDetailApi.as_view(), name="eval-item"),
    path("work-items/<int:item_id>/lock/", apis.WorkItemLockApi.as_view(), name="eval-item-lock"),
    path(
        "work-items/<int:item_id>/release/",
        apis.WorkItemReleaseApi.as_view(),
        name="eval-item-release",
    ),
    path(
        "work-items/<int:item_id>/session-rating/",
        apis.SessionRatingCreateApi.as_view(),
        name="eval-session-rating",
    ),
    path(
        "work-items/<int:item_id>/safety-label/",
        apis.SafetyLabelCreateApi.as_view(),
        name="eval-safety-label",
    ),
    path(
        "work-items/<int:item_id>/intent-label/",
        apis.IntentLabelCreateApi.as_view(),
        name="eval-intent-label",
    ),
    path(
        "work-items/<int:item_id>/preference/",
        apis.PreferenceJudgementCreateApi.as_view(),
        name="eval-preference",
    ),
    path(
        "work-items/<int:item_id>/adjudication/",
        apis.AdjudicationCreateApi.as_view(),
        name="eval-adjudication",
    ),
    path(
        "escalations/<int:escalation_id>/close/",
        apis.EscalationCloseApi.as_view(),
        name="eval-escalation-close",
    ),
    path("dialogues/", apis.DialogueListApi.as_view(), name="eval-dialogue-list"),
    path("dialogues/create/", apis.DialogueCreateApi.as_view(), name="eval-dialogue-create"),
    path("dialogues/import/", apis.ImportApi.as_view(), name="eval-import"),
    path("dialogues/<int:dialogue_id>/", apis.DialogueDetailApi.as_view(), name="eval-dialogue"),
    path(
        "dialogues/<int:dialogue_id>/update/",
        apis.DialogueUpdateApi.as_view(),
        name="eval-dialogue-update",
    ),
    path(
        "dialogues/<int:dialogue_id>/submit/",
        apis.DialogueSubmitApi.as_view(),
        name="eval-dialogue-submit",
    ),
    path(
        "dialogues/<int:dialogue_id>/approve/",
        apis.DialogueApproveApi.as_view(),
        name="eval-dialogue-approve",
    ),
    path(
        "dialogues/<int:dialogue_id>/reject/",
        apis.DialogueRejectApi.as_view(),
        name="eval-dialogue-reject",
    ),
    path(
        "dialogues/<int:dialogue_id>/variants/",
        apis.DialogueVariantCreateApi.as_view(),
        name="eval-dialogue-variant",
    ),
    path("agreement/", apis.AgreementApi.as_view(), name="eval-agreement"),
    path("disagreements/", apis.DisagreementListApi.as_view(), name="eval-disagreements"),
    path("audit-events/", apis.AuditEventListApi.as_view(), name="eval-audit-events"),
    path("metrics/", apis.MetricListApi.as_view(), name="eval-metrics"),
]
