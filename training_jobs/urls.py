from django.urls import path

from training_jobs import views

app_name = "training_jobs"
urlpatterns = [
    path("models/", views.ModelListPage.as_view(), name="model-list"),
    path("models/<int:version_id>/", views.ModelVersionPage.as_view(), name="model-detail"),
    path(
        "models/<int:version_id>/activate/",
        views.ModelVersionActivatePage.as_view(),
        name="model-activate",
    ),
    path("models/jobs/start/", views.TrainingJobStartPage.as_view(), name="job-start"),
    path("models/jobs/<int:job_id>/", views.TrainingJobPage.as_view(), name="job-detail"),
]
