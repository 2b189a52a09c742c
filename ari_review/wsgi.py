import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ari_review.settings")
application = get_wsgi_application()

if settings.ARI_WARM_ON_START:
    from conversations.services.warmup import models_warm_in_background

    models_warm_in_background()
