from django.urls import path

from conversations import views

app_name = "conversations"
urlpatterns = [
    path("chat/", views.ChatView.as_view(), name="chat"),
    path("chat/start/", views.SessionStartView.as_view(), name="start"),
    path("chat/preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("chat/<uuid:session_id>/", views.SessionView.as_view(), name="session"),
    path("chat/<uuid:session_id>/send/", views.MessageSendView.as_view(), name="send"),
    path("chat/<uuid:session_id>/end/", views.SessionEndView.as_view(), name="end"),
    path("chat/<uuid:session_id>/rate/", views.SessionRateView.as_view(), name="rate"),
    path("chat/<uuid:session_id>/summary/", views.SessionSummaryView.as_view(), name="summary"),
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("my-data/", views.MyDataView.as_view(), name="my-data"),
    path("my-data/download/", views.MyDataDownloadView.as_view(), name="my-data-download"),
    path("my-data/erase/", views.MyDataEraseView.as_view(), name="my-data-erase"),
]
