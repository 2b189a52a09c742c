"""Sticky, proportional arms; every turn stores its release and arm; the canary arm is served by
the candidate's models; a safety canary only adds caution (docs/releases.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conversations.backends.classifiers import get_safety_classifier
from conversations.backends.generation import generators_reset
from conversations.models import ChatSession, Message
from conversations.rollout import CANARY, CONTROL, arm_for
from conversations.services import chat_turn_run, session_create
from evaluation.services.starter import starter_content_load
from tests.factories import UserFactory
from tests.training_jobs.fixtures import fast_settings
from tests.training_jobs.releases import (
    candidate,
    live_release_adopt,
    release_to,
    users_in_arms,
    version_copy,
)
from training_jobs.ml.data import DatasetPaths, read_jsonl
from training_jobs.ml.labels import level_rank
from training_jobs.ml.train import train_and_evaluate
from training_jobs.models import ModelVersion

USERS = 10_000


@hsettings(max_examples=25, deadline=None)
@given(release_id=st.integers(min_value=1, max_value=10**9))
def test_ten_thousand_users_put_5_percent_in_a_5_percent_canary(release_id):
    keys = [f"u{i}" for i in range(1, USERS + 1)]
    canary = [k for k in keys if arm_for(k, release_id, 5) == CANARY]
    assert abs(len(canary) / USERS - 0.05) <= 0.01
    # sticky: the same user, the same arm, however often asked
    assert all(arm_for(k, release_id, 5) == CANARY for k in canary)
    # growing the canary keeps its users in it (5 -> 25 -> 50)
    at_25 = {k for k in keys if arm_for(k, release_id, 25) == CANARY}
    assert set(canary) <= at_25
    assert abs(len(at_25) / USERS - 0.25) <= 0.02


def test_another_release_draws_its_own_arms():
    keys = [f"u{i}" for i in range(USERS)]
    first = {k for k in keys if arm_for(k, 1, 50) == CANARY}
    second = {k for k in keys if arm_for(k, 2, 50) == CANARY}
    assert 0.4 < len(first & second) / len(first) < 0.6  # independent draws


@pytest.fixture
def chat_ready(settings, active_models):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "approved"
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    generators_reset()
    starter_content_load()
    yield active_models
    generators_reset()


def test_each_turn_stores_its_release_and_arm_the_same_across_sessions(chat_ready, admin_user):
    live_release_adopt()
    release = candidate(
        admin_user, "canary_50", intent_version=version_copy(chat_ready["intent"], "intent-next")
    )
    arms = users_in_arms(release, 3)
    for arm, users in arms.items():
        for user in users:
            for _ in range(2):  # two sessions, one turn each
                session = session_create(user=user, session_type="check_in")
                chat_turn_run(session=session, text="Work has been a lot lately.")
                session.refresh_from_db()
                assert (session.release_id, session.rollout_arm) == (release.pk, arm)
            rows = Message.objects.filter(session__user=user)
            assert rows.count() == 4
            assert set(rows.values_list("release_id", "rollout_arm")) == {(release.pk, arm)}
            intents = {m.model_versions.get("intent") for m in rows if m.role == "assistant"}
            expected = "intent-next" if arm == CANARY else chat_ready["intent"].name
            assert intents == {expected}


def test_without_a_candidate_turns_belong_to_the_live_release(chat_ready, enduser):
    live = live_release_adopt()
    session = session_create(user=enduser, session_type="check_in")
    reply = chat_turn_run(session=session, text="Hello").reply
    assert (reply.release_id, reply.rollout_arm) == (live.pk, CONTROL)
    assert ChatSession.objects.get(pk=session.pk).rollout_arm == CONTROL


# --- A safety canary only adds caution -------------------------------------------------------


@pytest.fixture(scope="module")
def other_safety_model(tmp_path_factory, tiny_dataset_dir):
    """A real, different safety model (trained on a few rows): its decisions differ."""
    return train_and_evaluate(
        kind="safety",
        backend="linear",
        out_dir=tmp_path_factory.mktemp("other") / "safety-other",
        version="safety-other",
        paths=DatasetPaths(
            train=tiny_dataset_dir / "safety_train.jsonl",
            test=tiny_dataset_dir / "safety_test.jsonl",
        ),
        settings=fast_settings(),
    )


def _texts(per_level: int = 6) -> list[str]:
    rows = read_jsonl(DatasetPaths.shipped("safety").test, kind="safety")
    picked, counts = [], {}
    for row in rows:
        level = row["risk_level"]
        if counts.get(level, 0) < per_level and not row.get("history"):
            counts[level] = counts.get(level, 0) + 1
            picked.append(row["text"])
    return picked


def _other_version(outcome) -> ModelVersion:
    return ModelVersion.objects.create(
        name="safety-other",
        kind="safety",
        backend="linear",
        artifact_path=str(outcome.artifact_dir),
        thresholds=outcome.thresholds,
        metrics={"high_recall": 0.99},
        train_data_hash="x",
        test_data_hash="y",
        gate_passed=True,
    )


@pytest.mark.parametrize("stage", ["staging", "canary_50"])
def test_the_served_level_never_drops_below_the_incumbents(
    chat_ready, admin_user, other_safety_model, stage
):
    live_release_adopt()
    release = candidate(admin_user, stage, safety_version=_other_version(other_safety_model))
    if release.canary_percent:
        arms = users_in_arms(release, 1)
    else:  # staging: everyone is in the control arm
        arms = {CONTROL: [UserFactory(username="solo", role="enduser")]}
    incumbent = get_safety_classifier()
    served_by_candidate = 0
    for text in _texts():
        expected = incumbent.assess(text, history=[]).level
        for arm, (user,) in arms.items():
            session = session_create(user=user, session_type="check_in")
            message = chat_turn_run(session=session, text=text).user_message
            message.refresh_from_db()
            reply = message.reply
            shadow = reply.provenance["safety_candidate"]
            assert shadow["model_version"] == "safety-other"
            assert reply.provenance["safety_incumbent"]["level"] == expected
            assert level_rank(message.risk_level) >= level_rank(expected)
            if arm == CANARY and stage != "staging":
                more = max((expected, shadow["level"]), key=level_rank)
                assert message.risk_level == more
                served_by_candidate += shadow["served"]
            else:  # shadow only: never served
                assert message.risk_level == expected and shadow["served"] is False
    print(f"stage={stage} texts={len(_texts())} served_by_candidate={served_by_candidate}")
    if stage == "staging":
        assert served_by_candidate == 0


# --- The generation configuration is served per arm -------------------------------------------


def test_each_arm_is_served_its_releases_generation_configuration(chat_ready, admin_user):
    from conversations.models import PersonaPrompt
    from training_jobs.releases.services import release_create

    live = live_release_adopt()
    assert live.generation_config["generator"] == "approved"
    PersonaPrompt.objects.create(version=2, text="You are Ari, version two.", active=False)
    release = release_create(
        created_by=admin_user,
        generation_config={"generator": "composed", "persona_prompt_version": 2},
    )
    assert release.generation_config["persona_prompt_version"] == 2
    release = release_to(release, "canary_50", admin_user)
    served = {}
    for arm, users in users_in_arms(release, 2).items():
        for user in users:
            session = session_create(user=user, session_type="check_in")
            reply = chat_turn_run(session=session, text="Work has been a lot lately.").reply
            assert reply.rollout_arm == arm
            served.setdefault(arm, set()).add(
                (reply.provenance["backend"], reply.model_versions["persona"])
            )
    assert served == {CONTROL: {("approved", "v1")}, CANARY: {("composed", "v2")}}


def test_a_release_whose_rule_set_is_not_deployed_cannot_be_staged(chat_ready, admin_user):
    import pytest as _pytest

    from ari_review.api.errors import ApplicationError
    from conversations.models import Release
    from training_jobs.releases.gate import release_checklist
    from training_jobs.releases.services import release_create, release_promote

    live_release_adopt()
    release = release_create(created_by=admin_user)
    Release.objects.filter(pk=release.pk).update(filter_ruleset_version="0-not-deployed")
    release.refresh_from_db()
    items = {i.key: i for i in release_checklist(release)}
    assert items["contents"].status == "fail" and "0-not-deployed" in items["contents"].detail
    with _pytest.raises(ApplicationError, match="cannot be served here"):
        release_promote(release_id=release.pk, user=admin_user, from_stage="draft")
    with _pytest.raises(ApplicationError, match="Persona prompt version 99"):
        release_create(generation_config={"persona_prompt_version": 99})
    with _pytest.raises(ApplicationError, match="not one of"):
        release_create(generation_config={"generator": "nonsense"})
