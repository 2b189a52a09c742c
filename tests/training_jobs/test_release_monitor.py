"""The monitor: a bad canary (a damaged model failing every turn, slower replies, more
escalations) is rolled back automatically with its reason and an alert; a healthy one is not;
nothing is decided before the minimum sample (docs/releases.md, "Automatic rollback")."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from ari_review.celery import app as celery_app
from ari_review.models import AuditEvent
from conversations.backends.generation import generators_reset
from conversations.models import ChatSession, Message, Notification, ReleaseStage
from conversations.rollout import CANARY, CONTROL
from conversations.services import chat_turn_run, session_create
from evaluation.services.starter import starter_content_load
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.training_jobs.releases import (
    broken_intent_version,
    candidate,
    live_release_adopt,
    users_in_arms,
    version_copy,
)
from training_jobs.models import ReleaseEvent
from training_jobs.releases.gate import release_checklist
from training_jobs.releases.monitor import canary_verdict, two_proportion_p
from training_jobs.tasks import release_monitor_task

SAMPLE = 15


@pytest.fixture(autouse=True)
def _monitor_settings(settings):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "approved"
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    settings.ARI_RELEASE_MIN_SAMPLE = SAMPLE
    generators_reset()
    yield
    generators_reset()


def test_the_monitor_is_a_beat_job_declared_in_settings():
    entry = django_settings.CELERY_BEAT_SCHEDULE["training-release-monitor"]
    assert entry["task"] == "training_jobs.tasks.release_monitor_task"
    assert entry["task"] in celery_app.tasks


def test_two_proportion_test_is_one_sided():
    assert two_proportion_p(30, 300, 3, 300) < 1e-5  # canary clearly worse
    assert two_proportion_p(3, 300, 30, 300) > 0.99  # canary better: no breach
    assert two_proportion_p(0, 300, 0, 300) == 1.0


def test_a_canary_failing_its_turns_is_rolled_back_through_the_real_pipeline(
    active_models, admin_user, tmp_path, settings
):
    settings.ONCALL_EMAILS = ["oncall@example.org"]
    starter_content_load()
    live = live_release_adopt()
    release = candidate(admin_user, "canary_50", intent_version=broken_intent_version(tmp_path))
    arms = users_in_arms(release, SAMPLE)
    for users in arms.values():
        for user in users:
            chat_turn_run(session=session_create(user=user, session_type="check_in"), text="Hi")
    canary_replies = Message.objects.filter(release=release, rollout_arm=CANARY, role="assistant")
    assert canary_replies.count() == SAMPLE
    assert all("intent_candidate_error" in m.provenance for m in canary_replies)

    outcome = release_monitor_task()

    release.refresh_from_db()
    live.refresh_from_db()
    assert outcome["release"] == release.pk and release.stage == ReleaseStage.ROLLED_BACK
    assert live.stage == ReleaseStage.LIVE
    assert release.rollback_reason.startswith("error rate: canary 100.00% vs control 0.00%")
    assert release.last_check["arms"][CANARY]["errors"] == SAMPLE
    alert = ReleaseEvent.objects.get(release=release, kind=ReleaseEvent.Kind.ALERT)
    assert alert.acknowledged_at is None and "error rate" in alert.reason
    auto = AuditEvent.objects.get(action="release.rollback.auto")
    # ... and on-call hears it by e-mail through the escalation outbox
    mail = Notification.objects.get(address="oncall@example.org")
    assert release.name in mail.subject and "error rate" in mail.body
    assert auto.actor_name == "system" and auto.after["stage"] == "rolled_back"
    # the canary's users are back on the incumbent at their next turn
    user = arms[CANARY][0]
    reply = chat_turn_run(session=session_create(user=user, session_type="check_in"), text="Hi")
    assert (reply.reply.release_id, reply.reply.rollout_arm) == (live.pk, CONTROL)
    assert "intent_candidate_error" not in reply.reply.provenance

    # an open alert fails the next release's checklist until an admin acknowledges it
    following = candidate(
        admin_user, "draft", intent_version=version_copy(active_models["intent"], "i3")
    )
    assert {i.key: i.status for i in release_checklist(following)}["alerts"] == "fail"
    api = client_for(admin_user)
    acknowledged = api.post(reverse("api-release-alert-acknowledge", args=[alert.pk]))
    assert acknowledged.status_code == 200
    assert {i.key: i.status for i in release_checklist(following)}["alerts"] == "pass"


def _replies(release, arm: str, *, count: int, latency_ms, escalations: int = 0):
    """``count`` replies of ``release``'s ``arm`` as the pipeline stores them (sessions,
    user messages and replies), with the given latencies and escalations."""
    user = UserFactory(username=f"{arm}-{count}-{escalations}-{len(latency_ms)}", role="enduser")
    session = ChatSession.objects.create(
        user=user, session_type="check_in", release=release, rollout_arm=arm
    )
    rows = []
    for i in range(count):
        rows.append(
            Message(
                session=session,
                role="assistant",
                text="reply",
                release=release,
                rollout_arm=arm,
                emergency=i < escalations,
                latency_ms={"total": float(latency_ms[i])},
                provenance={"backend": "approved"},
            )
        )
    Message.objects.bulk_create(rows)


@pytest.fixture
def canary_release(active_models, admin_user):
    live_release_adopt()
    return candidate(
        admin_user, "canary_25", intent_version=version_copy(active_models["intent"], "intent-next")
    )


def test_slower_replies_and_more_escalations_are_breaches(canary_release, settings):
    settings.ARI_RELEASE_MIN_SAMPLE = 200
    rng = np.random.default_rng(17)
    _replies(canary_release, CONTROL, count=400, latency_ms=rng.normal(600, 80, 400), escalations=8)
    _replies(
        canary_release, CANARY, count=200, latency_ms=rng.normal(2600, 300, 200), escalations=30
    )
    verdict = canary_verdict(canary_release)
    assert verdict.enough_sample
    kinds = {b.split(":")[0] for b in verdict.breaches}
    assert kinds == {"p95 latency", "escalation rate"}
    assert verdict.tests["latency"]["p_value"] < 0.01
    assert verdict.tests["escalation rate"]["p_value"] < 0.01


def test_a_healthy_canary_is_left_alone_and_a_small_sample_decides_nothing(
    canary_release, settings
):
    settings.ARI_RELEASE_MIN_SAMPLE = 200
    rng = np.random.default_rng(3)
    _replies(canary_release, CONTROL, count=199, latency_ms=rng.normal(600, 80, 199))
    _replies(canary_release, CANARY, count=250, latency_ms=rng.normal(2600, 300, 250))
    small = canary_verdict(canary_release)
    assert not small.enough_sample and small.breaches == []

    _replies(canary_release, CONTROL, count=300, latency_ms=rng.normal(600, 80, 300), escalations=6)
    healthy_release_messages = Message.objects.filter(release=canary_release, rollout_arm=CANARY)
    healthy_release_messages.delete()
    _replies(canary_release, CANARY, count=300, latency_ms=rng.normal(610, 80, 300), escalations=4)
    healthy = canary_verdict(canary_release)
    assert healthy.enough_sample and healthy.breaches == []
    release_monitor_task()
    canary_release.refresh_from_db()
    assert canary_release.stage == "canary_25" and canary_release.last_check["breaches"] == []


# --- Review-based safety per arm ---------------------------------------------------------------


def _label(message, clinician, level: str, reason: str = "uncertain") -> None:
    from evaluation.models import SafetyLabel, WorkItem

    item = WorkItem.objects.create(
        kind=WorkItem.Kind.SAFETY,
        reason=reason,
        session=message.session,
        message=message,
        text_role="user",
    )
    SafetyLabel.objects.create(item=item, clinician=clinician, risk_level=level, urgency="none")


def test_clinicians_finding_more_false_alarms_in_the_canary_roll_it_back(
    active_models, admin_user, clinician, settings, client
):
    from training_jobs.releases.monitor import arm_reviews
    from training_jobs.releases.services import release_monitor_run

    settings.ARI_RELEASE_MIN_REVIEWED = 6
    starter_content_load()
    live_release_adopt()
    release = candidate(
        admin_user, "canary_50", intent_version=version_copy(active_models["intent"], "intent-b")
    )
    arms = users_in_arms(release, 6)
    for arm, users in arms.items():
        for user in users:
            session = session_create(user=user, session_type="check_in")
            text = "I want to end my life tonight" if arm == CANARY else "Work was long today."
            message = chat_turn_run(session=session, text=text).user_message
            message.refresh_from_db()
            # canary: served high, clinicians say none (false alarms); control: served and
            # labelled below high
            _label(message, clinician, "none")
    reviews = arm_reviews(release)
    served_high = Message.objects.filter(
        release=release, rollout_arm=CANARY, role="user", risk_level="high"
    ).count()
    assert reviews[CANARY].reviewed_not_high == 6 and reviews[CANARY].false_positives == served_high
    assert reviews[CONTROL].reviewed_not_high == 6 and reviews[CONTROL].fp_rate is not None
    assert served_high == 6 and reviews[CONTROL].false_positives == 0
    # an FN sample labelled high counts in the live false-negative estimate, not the FP rate
    # (a message of its own: one safety item per message)
    session = session_create(user=arms[CONTROL][0], session_type="check_in")
    sampled = chat_turn_run(session=session, text="Fine, just tired.").user_message
    _label(sampled, clinician, "high", reason="fn_sample")
    reviews = arm_reviews(release)
    assert (reviews[CONTROL].fn_misses, reviews[CONTROL].fn_labelled) == (1, 1)
    assert reviews[CONTROL].fn_lower is not None

    client.force_login(admin_user)
    page = client.get(reverse("training_jobs:release-detail", args=[release.pk])).content.decode()
    assert 'data-testid="reviews-canary"' in page and "(6 of 6)" in page

    # replies are below the minimum sample (6 < 15), the reviews have theirs: decided
    result = release_monitor_run()
    release.refresh_from_db()
    assert release.stage == ReleaseStage.ROLLED_BACK, result
    assert "high-risk false-positive rate" in release.rollback_reason
    assert release.last_check["enough_sample"] is False
    assert release.last_check["arms"][CANARY]["reviews"]["false_positives"] == 6
