from django.apps import AppConfig
from django.conf import settings


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from ari_review.health import degradation_probe_register
        from ari_review.signals import serving_started
        from conversations import checks  # noqa: F401  (registers the system checks)
        from conversations.backends.generation.breaker import generation_health
        from conversations.backends.safety_rules import set_extra_loader
        from conversations.services.risk_signals import workspace_rules

        set_extra_loader(workspace_rules)  # clinicians' signals apply beside the file's
        degradation_probe_register("generation", generation_health)  # /healthz
        serving_started.connect(_warm_on_start, dispatch_uid="conversations.warm_on_start")


def _warm_on_start(**kwargs) -> None:
    """Load the models in the background as a web process starts (``ARI_WARM_ON_START``)."""
    if settings.ARI_WARM_ON_START:
        from conversations.services.warmup import models_warm_in_background

        models_warm_in_background()
