"""The review queue's random sample oversamples sessions of a release's canary arm, so the
clinician review of a release fills within days (docs/releases.md)."""

from __future__ import annotations

import pytest

from conversations.models import ChatSession
from evaluation.models import WorkItem
from evaluation.services import review_queue_refresh
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sessions(count: int, arm: str) -> None:
    user = UserFactory(username=f"user-{arm}", role="enduser")
    ChatSession.objects.bulk_create(
        ChatSession(
            user=user,
            session_type="check_in",
            status=ChatSession.Status.ENDED,
            min_safety_confidence=0.99,
            rollout_arm=arm,
        )
        for _ in range(count)
    )


def _sampled_canary_share() -> float:
    picked = WorkItem.objects.filter(kind=WorkItem.Kind.REVIEW, reason=WorkItem.Reason.SAMPLE)
    arms = list(picked.values_list("session__rollout_arm", flat=True))
    assert len(arms) == 20
    return arms.count("canary") / len(arms)


def test_canary_sessions_are_sampled_more_often_than_their_share(settings):
    settings.EVALUATION_REVIEW_SAMPLE_PER_MONTH = 20
    settings.EVALUATION_REVIEW_CANARY_WEIGHT = 200
    _sessions(190, "control")
    _sessions(10, "canary")  # 5% of the sessions
    review_queue_refresh()
    # weight 200: nearly every canary session is picked (a simulation of the sampler gives 10.0
    # of 10 on average, never fewer than 8 in 20,000 draws); uniform sampling picks 1 on average
    assert _sampled_canary_share() >= 0.4


def test_a_weight_of_one_samples_uniformly(settings):
    settings.EVALUATION_REVIEW_SAMPLE_PER_MONTH = 20
    settings.EVALUATION_REVIEW_CANARY_WEIGHT = 1
    _sessions(190, "control")
    _sessions(10, "canary")
    review_queue_refresh()
    # 1 canary session on average; 5 or more happens about once in a thousand draws
    assert _sampled_canary_share() < 0.25
