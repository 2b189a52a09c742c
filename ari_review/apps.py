from django.apps import AppConfig


class AriReviewConfig(AppConfig):
    name = "ari_review"
    verbose_name = "Ari Review"

    def ready(self) -> None:
        from ari_review import receivers

        receivers.connect()
