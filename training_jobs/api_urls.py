from django.urls import path

from training_jobs import apis
from training_jobs.releases import apis as release_apis

urlpatterns = [
    path("model-versions/", apis.ModelVersionListApi.as_view(), name="api-model-versions"),
    path(
        "model-versions/<int:version_id>/",
        apis.ModelVersionDetailApi.as_view(),
        name="api-model-version-detail",
    ),
    path("training-jobs/", apis.TrainingJobListApi.as_view(), name="api-training-jobs"),
    path(
        "training-jobs/create/", apis.TrainingJobCreateApi.as_view(), name="api-training-job-create"
    ),
    path(
        "training-jobs/<int:job_id>/",
        apis.TrainingJobDetailApi.as_view(),
        name="api-training-job-detail",
    ),
    path("releases/", release_apis.ReleaseListApi.as_view(), name="api-releases"),
    path("releases/create/", release_apis.ReleaseCreateApi.as_view(), name="api-release-create"),
    path(
        "releases/<int:release_id>/",
        release_apis.ReleaseDetailApi.as_view(),
        name="api-release-detail",
    ),
    path(
        "releases/<int:release_id>/update/",
        release_apis.ReleaseUpdateApi.as_view(),
        name="api-release-update",
    ),
    path(
        "releases/<int:release_id>/promote/",
        release_apis.ReleasePromoteApi.as_view(),
        name="api-release-promote",
    ),
    path(
        "releases/<int:release_id>/rollback/",
        release_apis.ReleaseRollbackApi.as_view(),
        name="api-release-rollback",
    ),
    path(
        "release-alerts/<int:event_id>/acknowledge/",
        release_apis.ReleaseAlertAcknowledgeApi.as_view(),
        name="api-release-alert-acknowledge",
    ),
]
