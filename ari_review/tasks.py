from celery import shared_task

from ari_review.roles import roles_sync


@shared_task(name="ari_review.tasks.roles_sync_task", acks_late=True)
def roles_sync_task() -> list[str]:
    """Re-create the role groups and their permissions (idempotent)."""
    return sorted(roles_sync())
