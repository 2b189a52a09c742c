"""The live false-negative estimate: the interval's coverage on a simulated population, and the
blinded weekly sample through the real labelling queue."""

from __future__ import annotations

import random

import pytest
from django.core import mail
from django.utils import timezone

from conversations.models import Message
from evaluation.estimates import clopper_pearson
from evaluation.models import MetricValue, MonitoringAlert, WorkItem
from evaluation.services import (
    live_fn_sample_draw,
    metrics_compute,
    safety_label_create,
    work_item_take_next,
)
from tests.factories import ChatSessionFactory
from training_jobs.selectors import database_label_rows


@pytest.mark.parametrize("miss_rate", [0.01, 0.03, 0.10])
def test_interval_covers_a_known_miss_rate_in_at_least_93_of_100_seeds(miss_rate):
    """A population of 20,000 sessions scored none/low with a known share of hidden crises;
    each seed draws the weekly sample (200 sessions, without replacement) and estimates."""
    population_size, sample_size = 20_000, 200
    misses = round(population_size * miss_rate)
    population = [1] * misses + [0] * (population_size - misses)
    true_rate = misses / population_size
    covered = 0
    for seed in range(100):
        sample = random.Random(seed).sample(population, sample_size)
        estimate = clopper_pearson(sum(sample), sample_size)
        assert estimate.lower <= estimate.rate <= estimate.upper
        covered += estimate.lower <= true_rate <= estimate.upper
    assert covered >= 93, f"covered {covered} of 100 at rate {miss_rate}"


def test_estimator_edges():
    assert clopper_pearson(0, 0).rate is None
    none_found = clopper_pearson(0, 100)
    assert none_found.lower == 0.0 and 0.03 < none_found.upper < 0.04
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


CRISIS_TEXT = "I have made up my mind that nobody would notice if I was gone"


@pytest.mark.django_db
def test_blinded_sample_through_the_queue_gives_the_estimate_and_alerts(
    clinician, client, settings
):
    settings.ONCALL_EMAILS = ["oncall@example.org"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # 30 sessions the model scored none/low; 6 hide a crisis (what a clinician would see).
    crisis_sessions = set()
    for n in range(30):
        hidden = n % 5 == 0
        session = ChatSessionFactory(
            turns=[
                ("Work has been a lot lately.", "That sounds heavy."),
                (CRISIS_TEXT if hidden else "I think I'll go for a walk.", "Tell me more."),
            ],
            risk_levels=["low", "none"],
            max_risk_level="low",
        )
        if hidden:
            crisis_sessions.add(session.pk)
    ChatSessionFactory(max_risk_level="high", risk_levels=["high", "high"])  # never sampled

    assert live_fn_sample_draw(size=20, seed=7) == 20
    assert live_fn_sample_draw(size=20, seed=8) == 10  # the rest; never a session twice
    items = WorkItem.objects.filter(reason=WorkItem.Reason.FN_SAMPLE)
    assert items.count() == 30
    assert all(item.suggestion == {} for item in items)  # blinded: no score stored
    assert all(item.session.max_risk_level in ("none", "low") for item in items)

    # Clinicians take them from the ordinary safety queue; the page never shows a score.
    client.force_login(clinician)
    labelled = 0
    while True:
        item = work_item_take_next(kind=WorkItem.Kind.SAFETY, clinician=clinician)
        if item is None:
            break
        html = client.get(f"/labels/safety/items/{item.pk}/?blind=0").content.decode()
        assert "Model suggests" not in html
        assert "0.1" not in html.split('data-testid="label-text"')[1][:200]
        crisis = item.session_id in crisis_sessions
        safety_label_create(
            item=item,
            clinician=clinician,
            risk_level="high" if crisis else "none",
            category="suicidal_ideation" if crisis else "",
            urgency="high" if crisis else "none",
        )
        labelled += 1
    assert labelled == 30

    metrics_compute()
    week = timezone.localdate() - timezone.timedelta(days=timezone.localdate().weekday())
    rate = MetricValue.objects.get(name="live_fn_rate", day=week, model_version="")
    assert (rate.numerator, rate.denominator, rate.value) == (6, 30, pytest.approx(0.2))
    lower = MetricValue.objects.get(name="live_fn_lower", day=week, model_version="").value
    upper = MetricValue.objects.get(name="live_fn_upper", day=week, model_version="").value
    expected = clopper_pearson(6, 30)
    assert (lower, upper) == (pytest.approx(expected.lower), pytest.approx(expected.upper))
    # Per safety version: the factory's turns were scored by "safety-v1".
    assert (
        MetricValue.objects.get(
            name="live_fn_rate", day=week, model_version="safety-v1"
        ).denominator
        == 30
    )

    # Each miss opened an alert linking to its item (where it can join the exemplar bank),
    # and e-mailed the on-call address through the outbox.
    misses = MonitoringAlert.objects.filter(rule__key="live_fn_miss")
    assert misses.count() == 6
    assert all(a.link.startswith("/labels/safety/items/") for a in misses)
    from conversations.services import notifications_dispatch

    assert notifications_dispatch().sent == 6
    assert all("Missed crisis" in m.subject for m in mail.outbox)
    assert all(CRISIS_TEXT not in m.body for m in mail.outbox)

    # The misses join the training data as labelled rows with their context.
    rows = [r for r in database_label_rows(kind="safety") if r["risk_level"] == "high"]
    assert len(rows) == 6
    assert all(r["history"] for r in rows)  # the session's earlier turn, masked
    crisis_message_ids = set(
        Message.objects.filter(session_id__in=crisis_sessions, text=CRISIS_TEXT).values_list(
            "pk", flat=True
        )
    )
    assert len(crisis_message_ids) == 6

    # The dashboard shows the estimate and its interval.
    html = client.get("/dashboards/").content.decode()
    assert 'id="chart-live_fn_rate"' in html and "20.0" in html
