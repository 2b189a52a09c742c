from django.urls import path

from training_jobs import views
from training_jobs.releases import views as release_views

app_name = "training_jobs"
urlpatterns = [
    path("models/", views.ModelListPage.as_view(), name="model-list"),
    path("models/<int:version_id>/", views.ModelVersionPage.as_view(), name="model-detail"),
    path("models/compare/", views.ModelVersionComparePage.as_view(), name="model-compare"),
    path(
        "models/<int:version_id>/activate/",
        views.ModelVersionActivatePage.as_view(),
        name="model-activate",
    ),
    path("models/releases/", release_views.ReleaseListPage.as_view(), name="release-list"),
    path(
        "models/releases/create/", release_views.ReleaseCreatePage.as_view(), name="release-create"
    ),
    path(
        "models/releases/<int:release_id>/",
        release_views.ReleasePage.as_view(),
        name="release-detail",
    ),
    path(
        "models/releases/<int:release_id>/edit/",
        release_views.ReleaseEditPage.as_view(),
        name="release-edit",
    ),
    path(
        "models/releases/<int:release_id>/promote/",
        release_views.ReleasePromotePage.as_view(),
        name="release-promote",
    ),
    path(
        "models/releases/<int:release_id>/rollback/",
        release_views.ReleaseRollbackPage.as_view(),
        name="release-rollback",
    ),
    path(
        "models/releases/alerts/<int:event_id>/acknowledge/",
        release_views.ReleaseAlertAcknowledgePage.as_view(),
        name="release-alert-acknowledge",
    ),
    path("models/jobs/start/", views.TrainingJobStartPage.as_view(), name="job-start"),
    path("models/jobs/<int:job_id>/", views.TrainingJobPage.as_view(), name="job-detail"),
]
