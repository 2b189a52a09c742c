"""Daily metrics per model version and rollout arm, computed from a tiny hand-checked dataset."""

import pytest
from django.utils import timezone

from conversations.models import Message
from evaluation.models import MetricValue
from evaluation.services import (
    ReplyInput,
    metrics_compute,
    safety_label_create,
    session_rating_create,
)
from evaluation.services.metrics import percentile, reply_latency_ms
from evaluation.tasks import (
    metrics_compute_task,
    review_locks_release_task,
    work_queues_refresh_task,
)
from tests.evaluation.conftest import api_as
from tests.evaluation.factories import (
    label_item,
    make_escalation,
    make_session,
    review_item,
)

pytestmark = pytest.mark.django_db


def _value(name, version="", arm=""):
    return MetricValue.objects.get(
        name=name, day=timezone.localdate(), model_version=version, rollout_arm=arm
    ).value


def test_percentile_and_latency_helpers():
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([10], 95) == 10
    assert percentile([], 50) is None
    assert reply_latency_ms({"safety": 5, "generate": 40}) == 45
    assert reply_latency_ms({"total": 70, "safety": 5}) == 70
    assert reply_latency_ms({}) is None


def test_metrics_from_ratings_labels_and_turns(clinician):
    canary = make_session(rollout_arm="canary", rating_stars=4)
    stable = make_session(
        rating_stars=2,
        reply_fields={"provenance": {"backend": "approved", "fallback_reason": "timeout"}},
    )
    make_escalation(canary)
    # Ratings: one appropriate, one harmful -> 50%. Validation: yes, no, yes -> 2/3.
    for session, value, validated in (
        (canary, "appropriate", [True, False]),
        (stable, "harmful", [True, None]),
    ):
        replies = session.messages.filter(role="assistant").order_by("id")
        session_rating_create(
            item=review_item(session),
            clinician=clinician,
            appropriateness=value,
            replies=[ReplyInput(r.pk, (), v) for r, v in zip(replies, validated, strict=True)],
        )
    # Safety: clinician-high & model-high (hit), clinician-high & model-low (miss),
    # clinician-none & model-high (false positive), clinician-low & model-low. As the chat turn
    # stores them: the user message keeps the risk fields, its reply the model versions.
    cases = [("high", "high"), ("high", "low"), ("none", "high"), ("low", "low")]
    user_messages = Message.objects.filter(role="user").select_related("reply").order_by("id")
    for (clinician_level, model_level), message in zip(cases, user_messages, strict=True):
        message.risk_level = model_level
        message.save(update_fields=["risk_level"])
        message.reply.model_versions = {**message.reply.model_versions, "safety": "safety-v2"}
        message.reply.save(update_fields=["model_versions"])
        item = label_item("safety", message=message)
        safety_label_create(
            item=item,
            clinician=clinician,
            risk_level=clinician_level,
            category="crisis" if clinician_level == "high" else "",
        )
    assert metrics_compute() > 0
    assert _value("appropriateness") == pytest.approx(0.5)
    assert _value("appropriateness", arm="canary") == pytest.approx(1.0)
    assert _value("validation_rate") == pytest.approx(2 / 3)
    assert _value("validation_rate", version="approved") == pytest.approx(2 / 3)
    assert _value("safety_recall") == pytest.approx(0.5)
    assert _value("safety_recall", version="safety-v2") == pytest.approx(0.5)
    assert _value("high_risk_fp_rate") == pytest.approx(0.5)
    assert _value("escalation_rate") == pytest.approx(0.5)
    assert _value("satisfaction") == pytest.approx(3.0)
    assert _value("latency_p95") == pytest.approx(50.0)
    assert _value("error_rate") == pytest.approx(0.5)  # 2 of 4 replies fell back
    # Idempotent: computing again updates the same rows.
    rows = MetricValue.objects.count()
    metrics_compute()
    assert MetricValue.objects.count() == rows
    body = api_as(clinician).get("/api/v1/metrics/?name=safety_recall").json()
    assert {r["model_version"] for r in body["results"]} == {"", "safety-v2"}


def test_tasks_call_their_services(clinician):
    make_session(max_risk_level="high")
    assert work_queues_refresh_task()["review"]["high_risk"] == 1
    assert review_locks_release_task() == 0
    assert metrics_compute_task(days=[timezone.localdate().isoformat()]) >= 0


def test_dashboard_page_shows_a_chart_per_metric(client, clinician):
    make_session()
    metrics_compute()
    client.force_login(clinician)
    html = client.get("/dashboards/").content.decode()
    for name in ("validation_rate", "safety_recall", "latency_p95", "appropriateness"):
        assert f'id="chart-{name}"' in html and f'id="chart-{name}-data"' in html
    assert client.get("/dashboards/plotly.min.js").status_code == 200


@pytest.mark.celery_worker
def test_queue_refresh_runs_on_a_real_celery_worker(celery_worker):
    from evaluation.models import WorkItem

    session = make_session(flagged=True)
    result = work_queues_refresh_task.delay()
    assert result.get(timeout=30)["review"]["escalated"] == 1
    assert WorkItem.objects.get(kind="review").session_id == session.pk
