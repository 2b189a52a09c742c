"""The benchmark's URLconf: production's, plus the floor endpoint (conversations.bench_floor).

Only the gunicorn that ``bench_chat --floor`` starts uses it (``ari_review.settings_bench``).
"""

from django.urls import path

from ari_review.urls import urlpatterns as production_urlpatterns
from conversations.bench_floor import TurnFloorApi

urlpatterns = [
    path("api/v1/bench/floor/<uuid:session_id>/", TurnFloorApi.as_view(), name="bench-floor"),
    *production_urlpatterns,
]
