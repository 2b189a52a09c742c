"""ARI_REWARD_RERANK: the approved backend lets a registered ranker (the training app's active
reward model) choose among its best few candidates; off by default, and without a ranker's
answer it chooses as before."""

from __future__ import annotations

import pytest

from conversations.backends.base import GenerationRequest
from conversations.backends.generation.approved import ApprovedContentGenerator
from conversations.backends.ranking import reply_rank, reply_ranker_register

MESSAGES = (
    "I feel so anxious about work tomorrow.",
    "My sister and I had a huge fight.",
    "I can't stop thinking about my ex.",
    "I feel lonely since I moved here.",
    "Everything feels heavy today.",
    "I'm exhausted and nobody notices.",
)
STEPS = (("check_in", "validate"), ("gentle_deep", "validate"), ("gentle_deep", "consent"))


@pytest.fixture
def ranker():
    """A ranker that records what it is asked and prefers the last candidate it is given."""
    asked: list[list[str]] = []

    def rank(user_text, replies):
        asked.append(list(replies))
        return [float(i) for i in range(len(replies))]

    from training_jobs.reward import active_reward_rank

    reply_ranker_register(rank)
    yield asked
    reply_ranker_register(active_reward_rank)


def _replies(generator) -> list[str]:
    return [
        generator.generate(
            GenerationRequest(user_text=text, session_type=kind, flow_step=step, persona="")
        ).text
        for text in MESSAGES
        for kind, step in STEPS
    ]


def test_rerank_is_off_by_default_and_the_ranker_then_goes_unasked(starter_content, ranker):
    _replies(ApprovedContentGenerator())
    assert ranker == []


def test_rerank_lets_the_ranker_choose_among_the_best_candidates(starter_content, ranker, settings):
    generator = ApprovedContentGenerator()
    before = _replies(generator)
    settings.ARI_REWARD_RERANK = True
    settings.ARI_REWARD_RERANK_TOP = 3
    after = _replies(generator)
    assert ranker, "some step offers more than one close candidate"
    assert all(2 <= len(c) <= 3 for c in ranker)
    chosen_by_ranker = {c[-1] for c in ranker}
    assert set(after) & chosen_by_ranker
    changed = [a for b, a in zip(before, after, strict=True) if a != b]
    assert changed and all(a in chosen_by_ranker for a in changed)


def test_a_failing_or_silent_ranker_changes_nothing(starter_content, settings):
    from training_jobs.reward import active_reward_rank

    generator = ApprovedContentGenerator()
    before = _replies(generator)
    settings.ARI_REWARD_RERANK = True

    def broken(user_text, replies):
        raise RuntimeError("no model")

    try:
        reply_ranker_register(broken)
        assert reply_rank("hi", ["a", "b"]) is None
        assert _replies(generator) == before
        reply_ranker_register(lambda text, replies: None)
        assert _replies(generator) == before
    finally:
        reply_ranker_register(active_reward_rank)
    # The training app's ranker answers None while no reward version is active.
    assert _replies(generator) == before
