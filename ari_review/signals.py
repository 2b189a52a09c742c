"""Signals of the core that apps listen to, so the core never imports them."""

from django.dispatch import Signal

# Sent by the WSGI entry point once the application is built, before the first request (the
# chat runtime loads its models then when ARI_WARM_ON_START is set).
serving_started = Signal()
