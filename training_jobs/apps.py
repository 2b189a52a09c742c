from django.apps import AppConfig


class TrainingJobsConfig(AppConfig):
    name = "training_jobs"

    def ready(self) -> None:
        # The chat runtime's approved backend may let the active reward model choose among its
        # best candidates (ARI_REWARD_RERANK); it reaches the registry through this hook.
        from conversations.backends.ranking import reply_ranker_register
        from training_jobs.reward import active_reward_rank

        reply_ranker_register(active_reward_rank)
