from django.urls import path

from evaluation import signal_views, views
from evaluation.models import WorkItem

Kind = WorkItem.Kind
app_name = "evaluation"
urlpatterns = [
    # Queues and items
    path("review/", views.QueuePage.as_view(kind=Kind.REVIEW), name="review-queue"),
    path(
        "review/items/<int:item_id>/", views.ItemPage.as_view(kind=Kind.REVIEW), name="review-item"
    ),
    path("labels/safety/", views.QueuePage.as_view(kind=Kind.SAFETY), name="safety-labelling"),
    path(
        "labels/safety/items/<int:item_id>/",
        views.ItemPage.as_view(kind=Kind.SAFETY),
        name="safety-item",
    ),
    path("labels/intent/", views.QueuePage.as_view(kind=Kind.INTENT), name="intent-labelling"),
    path(
        "labels/intent/items/<int:item_id>/",
        views.ItemPage.as_view(kind=Kind.INTENT),
        name="intent-item",
    ),
    path("comparisons/", views.QueuePage.as_view(kind=Kind.PREFERENCE), name="preference-queue"),
    path(
        "comparisons/items/<int:item_id>/",
        views.ItemPage.as_view(kind=Kind.PREFERENCE),
        name="preference-item",
    ),
    path("work/<str:kind>/next/", views.QueueNextPage.as_view(), name="queue-next"),
    path("work/items/<int:item_id>/lock/", views.ItemLockPage.as_view(), name="item-lock"),
    path("work/items/<int:item_id>/skip/", views.ItemSkipPage.as_view(), name="item-skip"),
    path(
        "review/escalations/<int:escalation_id>/close/",
        views.EscalationClosePage.as_view(),
        name="escalation-close",
    ),
    # Seed dialogues
    path("dialogues/", views.DialogueListPage.as_view(), name="dialogue-list"),
    path("dialogues/new/", views.DialogueCreatePage.as_view(), name="dialogue-create"),
    path("dialogues/import/", views.ImportPage.as_view(), name="dialogue-import"),
    path(
        "dialogues/<int:dialogue_id>/", views.DialogueDetailPage.as_view(), name="dialogue-detail"
    ),
    # Agreement, dashboards, audit
    path("agreement/", views.AgreementPage.as_view(), name="agreement"),
    path("agreement/adjudication/", views.AdjudicationPage.as_view(), name="adjudication"),
    path("dashboards/", views.DashboardPage.as_view(), name="dashboards"),
    path("dashboards/plotly.min.js", views.PlotlyJs.as_view(), name="plotly-js"),
    path("audit/", views.AuditLogPage.as_view(), name="audit-log"),
    path("signals/", signal_views.RiskSignalPage.as_view(), name="risk-signals"),
    path(
        "labels/safety/items/<int:item_id>/exemplar/",
        signal_views.ExemplarAddPage.as_view(),
        name="exemplar-add",
    ),
]
