"""The reward model: trained on clinician preference judgements (the 30 written comparisons in
``data/preference_pairs.jsonl``, in the export's format; written for these tests, not real
clinicians' choices) (through the workspace's own
service) as a training job into a reward model version; it beats the length and random
baselines on held-out pairs; it ranks replies for the approved backend when asked to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ari_review.api.errors import ApplicationError
from conversations.backends.ranking import reply_rank
from evaluation.models import PreferenceCandidate, WorkItem
from evaluation.selectors.preference_pairs import preference_training_pairs
from evaluation.services.preferences import CandidateScoreInput, preference_judgement_create
from tests.factories import UserFactory
from training_jobs.models import ModelVersion, TrainingJob
from training_jobs.reward import KAKOVERSE_DIR, active_reward_rank
from training_jobs.services import reward_version_train, training_job_create, training_job_run

PAIRS = Path(__file__).parent / "data" / "preference_pairs.jsonl"
pytestmark = pytest.mark.django_db


def _comparisons(clinician) -> list[dict]:
    """Every written pair as a workspace comparison judged by ``clinician``: the attuned reply
    chosen, with per-dimension scores (good 3/3/2/3, poor 1/0/1/2)."""
    rows = [
        {
            "context": r["prompt"][0]["content"],
            "good": r["chosen"][0]["content"],
            "poor": r["rejected"][0]["content"],
        }
        for r in map(json.loads, PAIRS.read_text().splitlines())
    ]
    for n, row in enumerate(rows):
        item = WorkItem.objects.create(
            kind=WorkItem.Kind.PREFERENCE,
            reason=WorkItem.Reason.IMPORTED,
            context=[{"role": "user", "content": row["context"]}],
            source="test",
            external_id=f"pair-{n}",
        )
        # Shown in either order, so position says nothing.
        texts = [row["good"], row["poor"]] if n % 2 else [row["poor"], row["good"]]
        candidates = [
            PreferenceCandidate.objects.create(item=item, position=i, text=t)
            for i, t in enumerate(texts)
        ]
        good = next(c for c in candidates if c.text == row["good"])
        poor = next(c for c in candidates if c.text == row["poor"])
        preference_judgement_create(
            item=item,
            clinician=clinician,
            chosen_id=good.pk,
            tie=False,
            scores=[
                CandidateScoreInput(good.pk, 3, 3, 2, 3),
                CandidateScoreInput(poor.pk, 1, 0, 1, 2),
            ],
        )
    return rows


@pytest.fixture
def judged(settings, tmp_path):
    settings.MODEL_ARTIFACT_DIR = tmp_path / "models"
    return _comparisons(UserFactory(username="dr_pref", role="clinician"))


def test_pairs_carry_the_clinicians_scores(judged):
    pairs = preference_training_pairs()
    assert len(pairs) == len(judged)
    first = pairs[0]
    assert first["chosen"] == judged[0]["good"] and first["rejected"] == judged[0]["poor"]
    assert first["dimensions"] == {"empathy": 2, "presence": 3, "stabilization": 1, "safety": 1}
    assert first["weight"] == 2.0  # a gap of 7 of 12 points weighs the most


def test_reward_model_beats_length_and_random_on_held_out_pairs(judged):
    result = reward_version_train(activate=True)
    version = result.version
    assert version.kind == "reward" and version.backend == "bt"
    held = version.metrics["heldout"]
    assert held["n"] >= 5
    assert held["accuracy"] > held["length_baseline"]
    assert held["accuracy"] > held["random_baseline"]
    assert version.gate_passed and result.activated
    # The active reward version ranks a new attuned reply above a dismissive one.
    scores = active_reward_rank(
        "My cat died this week and I can't stop crying.",
        [
            "Get another cat soon, it will take your mind off it.",
            "I'm so sorry. Losing her this week must hurt; of course the tears keep coming.",
        ],
    )
    assert scores[1] > scores[0]
    assert reply_rank("My cat died", ["a reply", "another reply"]) is not None


def test_reward_training_job_runs_and_refuses_too_few_pairs(settings, tmp_path, admin_user):
    settings.MODEL_ARTIFACT_DIR = tmp_path / "models"
    job = training_job_create(kind="reward", backend="bt", created_by=admin_user)
    job = training_job_run(job_id=job.pk)
    assert job.status == TrainingJob.Status.FAILED
    assert "needs at least 20 preference pairs" in job.error
    with pytest.raises(ApplicationError, match="backend 'bt'"):
        training_job_create(kind="reward", backend="linear")


def test_reward_training_job_stores_a_version(judged, admin_user):
    job = training_job_create(kind="reward", backend="bt", created_by=admin_user)
    job = training_job_run(job_id=job.pk)
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    assert job.progress == 100
    version = ModelVersion.objects.get(pk=job.model_version_id)
    assert version.metrics["pairs"] == len(judged) and not version.is_active


@pytest.mark.skipif(not KAKOVERSE_DIR.is_dir(), reason="../shared/data/kakoverse is absent")
def test_kakoverse_pairs_are_measured_when_present(judged):
    metrics = reward_version_train().version.metrics
    assert metrics["kakoverse"]["n"] == 21
    assert 0.0 <= metrics["kakoverse"]["accuracy"] <= 1.0
