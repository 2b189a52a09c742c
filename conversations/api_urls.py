from django.urls import path

from conversations.apis import alerts, messages, my_data, preferences, resources, reveal, sessions

urlpatterns = [
    path("sessions/", sessions.SessionsApi.as_view(), name="api-sessions"),
    path(
        "sessions/<uuid:session_id>/",
        sessions.SessionDetailApi.as_view(),
        name="api-session-detail",
    ),
    path(
        "sessions/<uuid:session_id>/messages/",
        messages.MessageCreateApi.as_view(),
        name="api-session-messages",
    ),
    path(
        "sessions/<uuid:session_id>/end/", sessions.SessionEndApi.as_view(), name="api-session-end"
    ),
    path(
        "sessions/<uuid:session_id>/rating/",
        sessions.SessionRatingApi.as_view(),
        name="api-session-rating",
    ),
    path("preferences/", preferences.ChatPreferencesApi.as_view(), name="api-chat-preferences"),
    path(
        "crisis-resources/", resources.CrisisResourceListApi.as_view(), name="api-crisis-resources"
    ),
    path("ping", resources.PingApi.as_view(), name="api-ping"),
    path("me/data/", my_data.MyDataApi.as_view(), name="api-me-data"),
    path("me/data/erase/", my_data.MyDataEraseApi.as_view(), name="api-me-data-erase"),
    path(
        "transcripts/<int:session_id>/reveal/",
        reveal.TranscriptRevealApi.as_view(),
        name="api-transcript-reveal",
    ),
    path("alerts/", alerts.ClinicianAlertListApi.as_view(), name="api-clinician-alerts"),
    path(
        "alerts/<int:alert_id>/read/",
        alerts.ClinicianAlertReadApi.as_view(),
        name="api-clinician-alert-read",
    ),
]
