"""Break-glass superuser accounts: ``createsuperuser`` with the password policy.

Django's ``createsuperuser --noinput`` stores ``DJANGO_SUPERUSER_PASSWORD`` without running
``AUTH_PASSWORD_VALIDATORS``. This app, listed before ``django.contrib.auth`` so that its command
wins, refuses such a password first. (The interactive command already validates; only an operator
at the terminal can answer its bypass prompt.)
"""
