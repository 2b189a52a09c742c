"""The Celery app: JSON only, time limits, queues ``chat``/``default``/``training``.

Configuration (broker, routes, time limits, the beat schedule) lives in settings under the
``CELERY_`` namespace, so all periodic schedules are declared in one place.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ari_review.settings")

app = Celery("ari_review")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("chat"), Queue("default"), Queue("training"))
app.autodiscover_tasks()
