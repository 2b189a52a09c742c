from django.urls import path

from conversations import apis

urlpatterns = [
    path("sessions/", apis.SessionsApi.as_view(), name="api-sessions"),
    path("sessions/<uuid:session_id>/", apis.SessionDetailApi.as_view(), name="api-session-detail"),
    path(
        "sessions/<uuid:session_id>/messages/",
        apis.MessageCreateApi.as_view(),
        name="api-session-messages",
    ),
    path("sessions/<uuid:session_id>/end/", apis.SessionEndApi.as_view(), name="api-session-end"),
    path(
        "sessions/<uuid:session_id>/rating/",
        apis.SessionRatingApi.as_view(),
        name="api-session-rating",
    ),
    path("preferences/", apis.ChatPreferencesApi.as_view(), name="api-chat-preferences"),
    path("crisis-resources/", apis.CrisisResourceListApi.as_view(), name="api-crisis-resources"),
    path("ping", apis.PingApi.as_view(), name="api-ping"),
    path("me/data/", apis.MyDataApi.as_view(), name="api-me-data"),
    path("me/data/erase/", apis.MyDataEraseApi.as_view(), name="api-me-data-erase"),
    path(
        "transcripts/<int:session_id>/reveal/",
        apis.TranscriptRevealApi.as_view(),
        name="api-transcript-reveal",
    ),
    path("alerts/", apis.ClinicianAlertListApi.as_view(), name="api-clinician-alerts"),
    path(
        "alerts/<int:alert_id>/read/",
        apis.ClinicianAlertReadApi.as_view(),
        name="api-clinician-alert-read",
    ),
]
