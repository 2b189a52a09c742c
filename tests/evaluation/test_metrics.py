"""Daily metrics per model version and rollout arm, from what the real chat turn writes.

Every turn goes through ``chat_turn_run`` (the production pipeline) with deterministic model
doubles: a safety classifier whose version names its default level, an intent classifier that
labels by the reply's words, and generators with fixed texts (one that fails). Nothing on the
messages is set by hand: the rollout arm comes from a real release the chat turn resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from ari_review.ttl_cache import ttl_cache_invalidate
from conversations.backends.base import IntentPrediction
from conversations.models import Message, Release, ReleaseStage
from conversations.rollout import CANARY, CONTROL, SERVING_RELEASES_KEY, arm_for
from conversations.services import chat_turn_run, session_create, session_end, session_rate
from conversations.services.filter.cues import text_validates
from evaluation.metrics_catalogue import METRICS
from evaluation.models import MetricValue
from evaluation.services import (
    ReplyInput,
    metrics_compute,
    safety_label_create,
    session_rating_create,
)
from evaluation.services.metrics import percentile, reply_latency_ms
from evaluation.services.starter import starter_content_load
from evaluation.tasks import (
    metrics_compute_task,
    review_locks_release_task,
    work_queues_refresh_task,
)
from tests.conversations.conftest import FixedRisk, RecordingGenerator
from tests.evaluation.conftest import api_as
from tests.factories import ChatSessionFactory, LabelItemFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

HIGH_RISK = "I want to end my life tonight"
HIDDEN_CRISIS = "I have decided there is no point going on after this week"
DISTRESSED = "I feel so anxious and low, everything is too much"
PLAIN = "Today I walked to the park and had a coffee"
VALIDATING = "That sounds really hard, and it makes sense that you feel this way."
QUESTION = "What happened at the park?"


@dataclass
class WordIntent:
    """An intent classifier double: ``validate`` for replies that say "makes sense"."""

    version: str = "intent-words-1"

    def predict(self, text: str) -> IntentPrediction:
        intent = "validate" if "makes sense" in text else "probe_story"
        return IntentPrediction(intent, 0.9, self.version)

    def predict_many(self, texts):
        return [self.predict(t) for t in texts]


def _value(name, version="", arm=""):
    return MetricValue.objects.get(
        name=name, day=timezone.localdate(), model_version=version, rollout_arm=arm
    )


def _turn(session, text, *, safety, generator):
    return chat_turn_run(
        session=session,
        text=text,
        safety_classifier=safety,
        generator=generator,
        intent_classifier=WordIntent(),
    )


@pytest.fixture
def traffic(db):
    """Three sessions of real chat turns; returns what the tests need to check against."""
    starter_content_load()
    safety_v1 = FixedRisk("none", overrides={HIGH_RISK: "high"})  # version "fixed-none"
    safety_v2 = FixedRisk("low")  # version "fixed-low"
    validating = RecordingGenerator(text=VALIDATING, name="words")
    asking = RecordingGenerator(text=QUESTION, name="words")
    broken = RecordingGenerator(fail=RuntimeError("model down"), name="words")
    # A live release and a canary at 50%: the chat turn assigns each user's arm (the hash of
    # user and release) and writes it on the session and the messages, as in production.
    Release.objects.create(name="metrics-live", stage=ReleaseStage.LIVE)
    next_release = Release.objects.create(name="metrics-next", stage=ReleaseStage.CANARY_50)
    ttl_cache_invalidate(SERVING_RELEASES_KEY)

    def user_in(arm: str):
        while True:
            user = UserFactory(role="enduser")
            if arm_for(f"u{user.pk}", next_release.pk, 50) == arm:
                return user

    canary = session_create(user=user_in(CANARY), session_type="check_in")
    a1 = _turn(canary, DISTRESSED, safety=safety_v2, generator=validating)
    a2 = _turn(canary, PLAIN, safety=safety_v2, generator=asking)
    canary.refresh_from_db()
    assert canary.rollout_arm == CANARY  # the pipeline's write

    stable = session_create(user=user_in(CONTROL), session_type="check_in")
    b1 = _turn(stable, HIDDEN_CRISIS, safety=safety_v1, generator=broken)
    b2 = _turn(stable, PLAIN, safety=safety_v1, generator=asking)

    crisis = session_create(user=user_in(CONTROL), session_type="check_in")
    c1 = _turn(crisis, HIGH_RISK, safety=safety_v1, generator=validating)
    canary = session_end(session=canary)
    session_rate(session=canary, stars=5)
    return {
        "sessions": (canary, stable, crisis),
        "turns": {"a1": a1, "a2": a2, "b1": b1, "b2": b2, "c1": c1},
    }


def test_percentile_and_latency_helpers():
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([10], 95) == 10
    assert percentile([], 50) is None
    assert reply_latency_ms({"safety": 5, "generate": 40}) == 45
    assert reply_latency_ms({"total": 70, "safety": 5}) == 70
    assert reply_latency_ms({}) is None


def test_the_chat_turn_records_the_safety_version_on_the_user_message(traffic):
    turns = traffic["turns"]
    # The user message records what screened it: the safety model and the risk-signal file.
    signals = turns["a1"].user_message.model_versions["risk_signals"]
    assert signals
    assert turns["a1"].user_message.model_versions == {
        "safety": "fixed-low",
        "risk_signals": signals,
    }
    assert turns["c1"].user_message.model_versions == {
        "safety": "fixed-none",
        "risk_signals": signals,
    }
    stored = Message.objects.get(pk=turns["b1"].user_message.pk)
    assert stored.model_versions["safety"] == "fixed-none"
    reply = turns["a1"].reply
    assert reply.model_versions["intent"] == "intent-words-1"
    assert reply.model_versions["generator"] == "words:recording-1"


def test_safety_metrics_per_version_from_clinician_labels(traffic, clinician):
    turns = traffic["turns"]
    # fixed-none: HIGH_RISK scored high (hit), HIDDEN_CRISIS scored none (a miss), PLAIN none
    # labelled none; fixed-low: PLAIN scored low, labelled none (not a false positive).
    for key, level in (("c1", "high"), ("b1", "high"), ("b2", "none"), ("a2", "none")):
        message = turns[key].user_message
        safety_label_create(
            item=LabelItemFactory(kind="safety", message=message),
            clinician=clinician,
            risk_level=level,
            category="crisis" if level == "high" else "",
        )
    metrics_compute()
    assert _value("safety_recall").value == pytest.approx(0.5)
    recall = _value("safety_recall", version="fixed-none")
    assert (recall.value, recall.numerator, recall.denominator) == (0.5, 1, 2)
    assert not MetricValue.objects.filter(name="safety_recall", model_version="unknown").exists()
    assert _value("high_risk_fp_rate", version="fixed-none").value == 0.0
    assert _value("high_risk_fp_rate", version="fixed-low").value == 0.0
    # The canary arm's labelled messages (PLAIN, labelled none) give no recall, one FP sample.
    assert _value("high_risk_fp_rate", arm="canary").denominator == 1


def test_reply_metrics_per_generator_version_and_arm(traffic, clinician):
    metrics_compute()
    turns = traffic["turns"]
    replies = Message.objects.filter(role="assistant")
    assert replies.count() == 5
    # Errors: the broken generator's turn fell back (1 of 5).
    assert turns["b1"].reply.provenance.get("fallback_reason")
    assert _value("error_rate").value == pytest.approx(1 / 5)
    # Latency: every reply's recorded total, user message to reply.
    p95 = _value("latency_p95")
    assert p95.denominator == 5 and p95.value > 0
    totals = [m.latency_ms["total"] for m in replies]
    assert p95.value == pytest.approx(percentile(totals, 95))
    assert _value("latency_p50", arm="canary").denominator == 2
    # Validation (the recipe): replies to distressed messages (DISTRESSED, low on PLAIN by
    # fixed-low, HIDDEN_CRISIS's words) that validate, emergencies aside.
    rate = _value("validation_rate")
    assert rate.denominator == 3
    expected = sum(
        1
        for key in ("a1", "a2", "b1")
        if turns[key].reply.intent == "validate" or text_validates(turns[key].reply.text)
    )
    assert turns["a1"].reply.intent == "validate"  # VALIDATING, served as written
    assert rate.numerator == expected >= 1
    words = _value("validation_rate", version="words:recording-1")
    assert words.denominator == 2  # a1 and a2; b1 was answered by the fallback
    # Sessions: one of three escalated (the emergency), satisfaction from the stars given.
    assert _value("escalation_rate").value == pytest.approx(1 / 3)
    assert _value("escalation_rate", arm="canary").value == 0.0
    assert _value("satisfaction").value == pytest.approx(5.0)


def test_clinician_judged_metrics_from_ratings(traffic, clinician):
    canary, stable, _ = traffic["sessions"]
    for session, value, validated in ((canary, "appropriate", True), (stable, "harmful", False)):
        reply = session.messages.filter(role="assistant").order_by("id").first()
        session_rating_create(
            item=ReviewItemFactory(session=session),
            clinician=clinician,
            appropriateness=value,
            replies=[ReplyInput(reply.pk, (), validated)],
        )
    metrics_compute()
    assert _value("appropriateness").value == pytest.approx(0.5)
    assert _value("appropriateness", arm="canary").value == pytest.approx(1.0)
    assert _value("validation_rate_reviewed").value == pytest.approx(0.5)
    # Idempotent: computing again updates the same rows.
    rows = MetricValue.objects.count()
    metrics_compute()
    assert MetricValue.objects.count() == rows
    body = api_as(clinician).get("/api/v1/metrics/?name=appropriateness").json()
    assert {r["rollout_arm"] for r in body["results"]} == {"", "canary", "control"}


def test_dashboards_filter_by_version_arm_and_dates_with_a_table_per_chart(
    traffic, client, clinician
):
    metrics_compute()
    client.force_login(clinician)
    html = client.get("/dashboards/").content.decode()
    for name in ("validation_rate", "safety_recall", "latency_p95", "appropriateness"):
        assert f'id="chart-{name}"' in html and f'id="chart-{name}-data"' in html
        assert f"Table: {METRICS[name][0]}" in html
    assert 'id="chart-live_fn_rate"' in html
    assert '<option value="canary"' in html and '<option value="words:recording-1"' in html
    today = timezone.localdate().isoformat()
    assert f'<th scope="row">{today}</th>' in html  # a table row per day
    # Each cell is the day's value as the chart plots it (% scaled), a dash where none.
    latency = MetricValue.objects.get(
        name="latency_p95", day=timezone.localdate(), model_version="", rollout_arm=""
    )
    assert latency.value is not None and f"<td>{round(latency.value, 3)}</td>" in html
    MetricValue.objects.filter(name="satisfaction").update(value=None)
    assert "<td>–</td>" in client.get("/dashboards/").content.decode()
    assert '"type": "date"' in html and '"dash": "dot"' in html  # time axis, target lines
    by_arm = client.get("/dashboards/?arm=canary").content.decode()
    assert "arm canary" in by_arm and "version words:recording-1" not in by_arm
    by_version = client.get("/dashboards/?version=words:recording-1").content.decode()
    assert "version words:recording-1" in by_version and "arm canary" not in by_version
    past = client.get("/dashboards/?since=2020-01-01&until=2020-01-31").content.decode()
    assert f'<th scope="row">{today}</th>' not in past and "No data yet" in past
    assert client.get("/dashboards/plotly.min.js").status_code == 200


def test_tasks_call_their_services(clinician):
    ChatSessionFactory(max_risk_level="high")
    assert work_queues_refresh_task()["review"]["high_risk"] == 1
    assert review_locks_release_task() == 0
    assert metrics_compute_task(days=[timezone.localdate().isoformat()]) >= 0


@pytest.mark.celery_worker
def test_queue_refresh_runs_on_a_real_celery_worker(celery_worker):
    from evaluation.models import WorkItem

    session = ChatSessionFactory(flagged=True)
    result = work_queues_refresh_task.delay()
    assert result.get(timeout=30)["review"]["escalated"] == 1
    assert WorkItem.objects.get(kind="review").session_id == session.pk


def test_sessions_played_by_evaluation_runs_stay_out_of_live_metrics(traffic):
    from ari_review.services import user_upsert
    from evaluation.services.evaluation_runs.generate import EVALUATION_USER_PREFIX

    metrics_compute()
    live_errors = _value("error_rate")
    live_escalations = _value("escalation_rate")
    run_user = user_upsert(username=f"{EVALUATION_USER_PREFIX}99", role="enduser").user
    played = session_create(user=run_user, session_type="check_in")
    broken = RecordingGenerator(fail=RuntimeError("model down"), name="words")
    _turn(played, HIGH_RISK, safety=FixedRisk("high"), generator=broken)
    metrics_compute()
    # The run's failing, escalating turn changes nothing the dashboards show.
    errors, escalations = _value("error_rate"), _value("escalation_rate")
    assert (errors.numerator, errors.denominator) == (
        live_errors.numerator,
        live_errors.denominator,
    )
    assert escalations.denominator == live_escalations.denominator == 3
