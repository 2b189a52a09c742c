from django.apps import AppConfig


class SuperusersConfig(AppConfig):
    name = "ari_review.superusers"
    label = "ari_superusers"
    verbose_name = "Break-glass superusers"
