from django.urls import path

from evaluation.models import WorkItem
from evaluation.views import (
    agreement,
    alerts,
    audit,
    dashboards,
    datasets,
    dialogues,
    evaluation_runs,
    exports,
    my_labels,
    queue,
    risk_signals,
)

Kind = WorkItem.Kind
app_name = "evaluation"
urlpatterns = [
    # Queues and items
    path("review/", queue.QueuePage.as_view(kind=Kind.REVIEW), name="review-queue"),
    path(
        "review/items/<int:item_id>/", queue.ItemPage.as_view(kind=Kind.REVIEW), name="review-item"
    ),
    path("labels/safety/", queue.QueuePage.as_view(kind=Kind.SAFETY), name="safety-labelling"),
    path(
        "labels/safety/items/<int:item_id>/",
        queue.ItemPage.as_view(kind=Kind.SAFETY),
        name="safety-item",
    ),
    path("labels/intent/", queue.QueuePage.as_view(kind=Kind.INTENT), name="intent-labelling"),
    path("labels/<str:kind>/export/", exports.LabelExportPage.as_view(), name="label-export"),
    path("labels/<str:kind>/undo/", my_labels.LabelUndoPage.as_view(), name="label-undo"),
    path("labels/<str:kind>/mine/", my_labels.MyLabelsPage.as_view(), name="my-labels"),
    path(
        "labels/intent/items/<int:item_id>/",
        queue.ItemPage.as_view(kind=Kind.INTENT),
        name="intent-item",
    ),
    path("comparisons/", queue.QueuePage.as_view(kind=Kind.PREFERENCE), name="preference-queue"),
    path(
        "comparisons/items/<int:item_id>/",
        queue.ItemPage.as_view(kind=Kind.PREFERENCE),
        name="preference-item",
    ),
    path("work/<str:kind>/next/", queue.QueueNextPage.as_view(), name="queue-next"),
    path("work/items/<int:item_id>/lock/", queue.ItemLockPage.as_view(), name="item-lock"),
    path("work/items/<int:item_id>/skip/", queue.ItemSkipPage.as_view(), name="item-skip"),
    path(
        "review/escalations/<int:escalation_id>/close/",
        queue.EscalationClosePage.as_view(),
        name="escalation-close",
    ),
    # Seed dialogues
    path("dialogues/", dialogues.DialogueListPage.as_view(), name="dialogue-list"),
    path("dialogues/new/", dialogues.DialogueCreatePage.as_view(), name="dialogue-create"),
    path("dialogues/import/", dialogues.ImportPage.as_view(), name="dialogue-import"),
    path(
        "dialogues/<int:dialogue_id>/",
        dialogues.DialogueDetailPage.as_view(),
        name="dialogue-detail",
    ),
    # Agreement, dashboards, audit
    path("agreement/", agreement.AgreementPage.as_view(), name="agreement"),
    path("agreement/adjudication/", agreement.AdjudicationPage.as_view(), name="adjudication"),
    path("dashboards/", dashboards.DashboardPage.as_view(), name="dashboards"),
    path("dashboards/plotly.min.js", dashboards.PlotlyJs.as_view(), name="plotly-js"),
    path("audit/", audit.AuditLogPage.as_view(), name="audit-log"),
    path("alerts/", alerts.AlertHistoryPage.as_view(), name="alerts"),
    path("alerts/<int:alert_id>/", alerts.AlertActionPage.as_view(), name="alert-action"),
    path("datasets/", datasets.DatasetBrowserPage.as_view(), name="datasets"),
    path(
        "datasets/conversations/<int:session_id>/",
        datasets.DatasetConversationPage.as_view(),
        name="dataset-conversation",
    ),
    path(
        "datasets/imported/<int:item_id>/",
        datasets.DatasetConversationPage.as_view(),
        name="dataset-imported-turn",
    ),
    # Frozen test sets and evaluation runs
    path("evaluation/", evaluation_runs.EvaluationRunListPage.as_view(), name="evaluation-runs"),
    path(
        "evaluation/runs/<int:run_id>/",
        evaluation_runs.EvaluationRunPage.as_view(),
        name="evaluation-run",
    ),
    path(
        "evaluation/compare/",
        evaluation_runs.EvaluationRunComparePage.as_view(),
        name="evaluation-compare",
    ),
    path(
        "evaluation/frozen-sets/<int:frozen_set_id>/freeze/",
        evaluation_runs.FrozenSetFreezePage.as_view(),
        name="frozen-set-freeze",
    ),
    path("signals/", risk_signals.RiskSignalPage.as_view(), name="risk-signals"),
    path(
        "labels/safety/items/<int:item_id>/exemplar/",
        risk_signals.ExemplarAddPage.as_view(),
        name="exemplar-add",
    ),
]
