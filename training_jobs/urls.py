from django.urls import path  # noqa: F401

app_name = "training_jobs"
urlpatterns: list = []
