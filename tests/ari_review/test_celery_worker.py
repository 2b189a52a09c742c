import pytest
from django.contrib.auth.models import Group

from ari_review.tasks import roles_sync_task


@pytest.mark.celery_worker
def test_task_runs_on_real_worker_and_writes_database(celery_worker):
    Group.objects.all().delete()
    result = roles_sync_task.apply_async(queue="default")
    assert result.get(timeout=60) == ["admin", "clinician", "enduser"]
    names = set(Group.objects.values_list("name", flat=True))
    assert names == {"admin", "clinician", "enduser"}
    assert Group.objects.get(name="clinician").permissions.exists()
