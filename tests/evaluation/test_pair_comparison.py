"""A pair compared dimension by dimension (the comparison page's one key per dimension): what is
stored, what the reward model's pairs read from it, and the errors a bad comparison gets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ari_review.api.errors import ApplicationError
from evaluation.models import CandidateScore
from evaluation.selectors.preference_pairs import preference_training_pairs
from evaluation.services import (
    CandidateScoreInput,
    DimensionComparisonInput,
    preference_judgement_create,
)
from tests.evaluation.conftest import api_as
from tests.factories import PreferenceItemFactory, UserFactory


@pytest.fixture
def clinician(db):
    return UserFactory(role="clinician", username="dr_pair")


def _compare(a: int, b: int, margins: dict[str, tuple[int | None, int]]):
    return [DimensionComparisonInput(d, better, m) for d, (better, m) in margins.items()]


def test_a_pair_compared_by_dimension_feeds_the_reward_pairs(clinician):
    item = PreferenceItemFactory(texts=("Short and kind.", "Generic advice."))
    a, b = sorted(item.candidates.values_list("pk", flat=True))
    judgement = preference_judgement_create(
        item=item,
        clinician=clinician,
        chosen_id=a,
        tie=False,
        scores=[CandidateScoreInput(a), CandidateScoreInput(b, unsafe=False)],
        comparison=_compare(
            a,
            b,
            {"empathy": (a, 2), "presence": (a, 1), "stabilization": (None, 0), "safety": (b, 1)},
        ),
    )
    assert judgement.dimension_comparison["empathy"] == {"better": a, "margin": 2}
    assert judgement.dimension_comparison["safety"] == {"better": b, "margin": 1}
    assert set(
        CandidateScore.objects.filter(judgement=judgement).values_list("empathy", flat=True)
    ) == {None}
    (row,) = preference_training_pairs()
    assert row["chosen"] == "Short and kind." and row["rejected"] == "Generic advice."
    assert row["dimensions"] == {"empathy": 2, "presence": 1, "stabilization": 0, "safety": -1}
    assert row["weight"] == pytest.approx(1.0 + 2 / 6.0)


def test_an_unsafe_mark_still_voids_the_pick(clinician):
    item = PreferenceItemFactory(texts=("One.", "Two."))
    a, b = sorted(item.candidates.values_list("pk", flat=True))
    judgement = preference_judgement_create(
        item=item,
        clinician=clinician,
        chosen_id=a,
        tie=False,
        scores=[CandidateScoreInput(a, unsafe=True), CandidateScoreInput(b)],
        comparison=_compare(
            a, b, dict.fromkeys(("empathy", "presence", "stabilization", "safety"), (None, 0))
        ),
    )
    assert judgement.effective_chosen_id is None


def test_bad_comparisons_are_refused_with_a_clear_message(clinician):
    item = PreferenceItemFactory(texts=("One.", "Two."))
    a, b = sorted(item.candidates.values_list("pk", flat=True))
    scores = [CandidateScoreInput(a), CandidateScoreInput(b)]
    three = _compare(a, b, {"empathy": (a, 1), "presence": (a, 1), "safety": (a, 1)})
    with pytest.raises(ApplicationError, match="stabilization is missing"):
        preference_judgement_create(
            item=item, clinician=clinician, chosen_id=a, tie=False, scores=scores, comparison=three
        )
    unbalanced = _compare(
        a, b, dict.fromkeys(("empathy", "presence", "stabilization", "safety"), (a, 0))
    )
    with pytest.raises(ApplicationError, match="exactly when its margin"):
        preference_judgement_create(
            item=item,
            clinician=clinician,
            chosen_id=a,
            tie=False,
            scores=scores,
            comparison=unbalanced,
        )
    triple = PreferenceItemFactory()  # three candidates: scored one by one, not compared
    ids = sorted(triple.candidates.values_list("pk", flat=True))
    with pytest.raises(ApplicationError, match="Only a pair"):
        preference_judgement_create(
            item=triple,
            clinician=clinician,
            chosen_id=ids[0],
            tie=False,
            scores=[CandidateScoreInput(i) for i in ids],
            comparison=_compare(
                ids[0],
                ids[1],
                dict.fromkeys(("empathy", "presence", "stabilization", "safety"), (None, 0)),
            ),
        )


def test_the_api_takes_a_pair_comparison(clinician):
    item = PreferenceItemFactory(texts=("One.", "Two."))
    a, b = sorted(item.candidates.values_list("pk", flat=True))
    payload = {
        "chosen_id": b,
        "scores": [{"candidate_id": a}, {"candidate_id": b, "unsafe": False}],
        "comparison": [
            {"dimension": d, "better_id": b, "margin": 1}
            for d in ("empathy", "presence", "stabilization", "safety")
        ],
    }
    response = api_as(clinician).post(
        reverse("eval-preference", args=[item.pk]), payload, format="json"
    )
    assert response.status_code == 201, response.content
    assert item.judgements.get().dimension_comparison["presence"] == {"better": b, "margin": 1}
