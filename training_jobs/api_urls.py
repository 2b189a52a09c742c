from django.urls import path

from training_jobs import apis

urlpatterns = [
    path("model-versions/", apis.ModelVersionListApi.as_view(), name="api-model-versions"),
    path(
        "model-versions/<int:version_id>/",
        apis.ModelVersionDetailApi.as_view(),
        name="api-model-version-detail",
    ),
    path(
        "model-versions/<int:version_id>/activate/",
        apis.ModelVersionActivateApi.as_view(),
        name="api-model-version-activate",
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
]
