import os

from django.core.wsgi import get_wsgi_application

from ari_review.signals import serving_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ari_review.settings")
application = get_wsgi_application()
serving_started.send(sender=None)
