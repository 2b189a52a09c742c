from celery import shared_task

from ari_review.roles import roles_sync


@shared_task(name="ari_review.tasks.roles_sync_task", acks_late=True)
def roles_sync_task() -> list[str]:
    """Re-create the role groups and their permissions (idempotent)."""
    return sorted(roles_sync())


@shared_task(
    name="ari_review.tasks.superuser_login_notify_task",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def superuser_login_notify_task(*, user_id: int) -> int:
    """E-mail the admins that a superuser signed in (the audit event is already written)."""
    from ari_review.services import superuser_login_notify

    return superuser_login_notify(user_id=user_id)
