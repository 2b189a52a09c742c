from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AriReviewConfig(AppConfig):
    name = "ari_review"
    verbose_name = "Ari Review"

    def ready(self) -> None:
        from ari_review import receivers
        from ari_review.roles import roles_sync_on_migrate

        post_migrate.connect(roles_sync_on_migrate, sender=self)
        receivers.connect()
