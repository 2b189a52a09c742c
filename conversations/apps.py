from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from conversations import checks  # noqa: F401  (registers the system checks)
        from conversations.backends.safety_rules import set_extra_loader
        from conversations.services.risk_signals import workspace_rules

        set_extra_loader(workspace_rules)  # clinicians' signals apply beside the file's
