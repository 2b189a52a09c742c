"""Sticky, proportional arms; every turn stores its release and arm; the canary arm is served by
the candidate's models; a safety canary only adds caution (docs/releases.md)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conversations.backends.classifiers import get_safety_classifier
from conversations.backends.generation import generators_reset
from conversations.models import ChatSession, Message
from conversations.rollout import CANARY, CONTROL, arm_for
from conversations.services import chat_turn_run, session_create
from conversations.services.release_contents import shipped_text
from evaluation.services.starter import starter_content_load
from tests.factories import UserFactory
from tests.training_jobs.fixtures import fast_settings
from tests.training_jobs.releases import (
    candidate,
    live_release_adopt,
    release_to,
    users_in_arms,
    version_copy,
    versioned,
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


def test_a_bad_generation_configuration_is_refused(active_models):
    from ari_review.api.errors import ApplicationError
    from training_jobs.releases.services import release_create

    with pytest.raises(ApplicationError, match="Persona prompt version 99"):
        release_create(generation_config={"persona_prompt_version": 99})
    with pytest.raises(ApplicationError, match="not one of"):
        release_create(generation_config={"generator": "nonsense"})


# --- The response-filter rule set and the risk-signal file are served per arm ---------------

SIGNAL_TEXT = "We painted a purple lighthouse at art class today."


def _rule_set_with(word: str) -> str:
    """The shipped rule set plus a rule that replaces any sentence naming ``word``."""
    return versioned(shipped_text("filter_rules"), "rf-test.1") + (
        "  - id: RF-CO-99\n"
        "    category: coercion\n"
        "    patterns:\n"
        f"      - '\\b{re.escape(word.lower())}\\b'\n"
        "    replacement: >-\n"
        "      Let us go at whatever pace feels right for you.\n"
    )


def _signals_with_extra() -> str:
    """The shipped signal file plus one entry that fires on ``SIGNAL_TEXT`` only."""
    return versioned(shipped_text("risk_signals"), "signals-test.1") + (
        "  - id: test.purple_lighthouse\n"
        "    level: high\n"
        "    category: crisis\n"
        "    langs: [en]\n"
        "    all:\n"
        "      - [purple lighthouse]\n"
    )


def _turn(user, text: str):
    session = session_create(user=user, session_type="check_in")
    return chat_turn_run(session=session, text=text)


def _a_word_of(reply) -> str:
    """A word of the reply's first generated sentence that a new rule can name: long, letters
    only, in none of the filter's own sentences (the rule set must still load)."""
    from conversations.services.filter.apply import SAFE_FALLBACK, VALIDATION_SENTENCE
    from conversations.services.filter.rules import FilterRulesError, rule_set_parse_text

    generated = reply.provenance.get("unfiltered_text", reply.text)
    first = re.split(r"(?<=[.!?])\s+", generated.strip())[0]
    own = f"{VALIDATION_SENTENCE} {SAFE_FALLBACK}".lower()
    for word in sorted(set(re.findall(r"[A-Za-z]{5,}", first)), key=len, reverse=True):
        if word.lower() in own:
            continue
        try:
            rule_set_parse_text(_rule_set_with(word))
        except FilterRulesError:
            continue
        return word
    raise AssertionError(f"no word to name in {first!r}")


def test_each_arm_is_served_its_releases_rule_set_sticky_and_rollback_restores_it(
    chat_ready, admin_user
):
    from training_jobs.releases.services import release_create, release_rollback

    live_release_adopt()
    text = "Work has been a lot lately."
    probe = _turn(UserFactory(username="probe", role="enduser"), text).reply
    shipped_version = probe.filter_version
    word = _a_word_of(probe)
    release = release_create(created_by=admin_user, filter_rules_yaml=_rule_set_with(word))
    assert release.filter_rules is not None
    assert (release.filter_ruleset_version, release.filter_rules.version) == ("rf-test.1",) * 2
    release = release_to(release, "canary_50", admin_user)
    arms = users_in_arms(release, 2)
    for _ in range(2):  # sticky: the same on every turn
        for arm, users in arms.items():
            for user in users:
                reply = _turn(user, text).reply
                rules = {hit["rule"] for hit in reply.filter_hits}
                assert reply.rollout_arm == arm
                if arm == CANARY:
                    assert "RF-CO-99" in rules and word.lower() not in reply.text.lower()
                    assert reply.filter_version == reply.model_versions["filter"] == "rf-test.1"
                else:
                    assert "RF-CO-99" not in rules and reply.text == probe.text
                    assert reply.filter_version == shipped_version
    # 100%: everyone gets it; rolled back from live, the incumbent's rule set serves again
    release = release_to(release, "live", admin_user)
    for user in arms[CONTROL]:
        assert "RF-CO-99" in {hit["rule"] for hit in _turn(user, text).reply.filter_hits}
    release_rollback(
        release_id=release.pk, user=admin_user, from_stage="live", reason="test: rule set"
    )
    for user in arms[CANARY] + arms[CONTROL]:
        reply = _turn(user, text).reply
        assert reply.text == probe.text and reply.filter_version == shipped_version


def test_a_canary_signal_file_screens_its_arm_and_only_adds_caution(chat_ready, admin_user):
    from training_jobs.releases.services import release_create, release_rollback

    live_release_adopt()
    incumbent_level = get_safety_classifier().assess(SIGNAL_TEXT, history=[]).level
    assert incumbent_level != "high"  # without the new signal the model does not flag it
    release = release_create(created_by=admin_user, risk_signals_yaml=_signals_with_extra())
    release = release_to(release, "canary_50", admin_user)
    arms = users_in_arms(release, 2)
    for arm, users in arms.items():
        for user in users:
            message = _turn(user, SIGNAL_TEXT).user_message
            message.refresh_from_db()
            shadow = message.reply.provenance["safety_candidate"]
            assert shadow["level"] == "high" and shadow["risk_signals"] == "signals-test.1"
            if arm == CANARY:  # screened with the arm's signals: served, more cautious
                assert message.risk_level == "high" and shadow["served"] is True
                assert "test.purple_lighthouse" in message.safety_rule_hits
                assert message.model_versions["risk_signals"] == "signals-test.1"
            else:  # the incumbent arm: the candidate's signal is recorded, not served
                assert message.risk_level == incumbent_level and shadow["served"] is False
                assert "test.purple_lighthouse" not in message.safety_rule_hits
                assert message.model_versions["risk_signals"] != "signals-test.1"
    # Live with the extra signal, then a candidate whose file drops it: the canary arm keeps
    # the incumbent's (more cautious) level; the candidate's lower one is only recorded.
    release = release_to(release, "live", admin_user)
    dropping = release_to(release_create(created_by=admin_user), "canary_50", admin_user)
    for arm, (user,) in users_in_arms(dropping, 1, prefix="d").items():
        message = _turn(user, SIGNAL_TEXT).user_message
        message.refresh_from_db()
        shadow = message.reply.provenance["safety_candidate"]
        assert shadow["level"] == incumbent_level and shadow["served"] is False
        assert message.risk_level == "high", arm
        assert message.model_versions["risk_signals"] == "signals-test.1"
    release_rollback(
        release_id=dropping.pk, user=admin_user, from_stage="canary_50", reason="test: signals"
    )


def test_workspace_signals_apply_on_every_arm(chat_ready, admin_user, clinician):
    from conversations.services.risk_signals import risk_signal_create
    from training_jobs.releases.services import release_create

    live_release_adopt()
    release = release_create(created_by=admin_user, risk_signals_yaml=_signals_with_extra())
    release = release_to(release, "canary_50", admin_user)
    risk_signal_create(
        user=clinician,
        entry_id="ws.green_harbour",
        level="high",
        category="crisis",
        langs=["en"],
        phrases=[["green harbour"]],
    )
    for arm, (user,) in users_in_arms(release, 1).items():
        message = _turn(user, "We walked past the green harbour sign today.").user_message
        message.refresh_from_db()
        assert message.risk_level == "high", arm
        assert "ws.green_harbour" in message.safety_rule_hits


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("filter_rules_yaml", "version: x\nmax_reply_chars: 500\nrules: [{id: bad}]\n", "rule bad"),
        ("filter_rules_yaml", "rules: [unclosed", "not valid YAML"),
        ("risk_signals_yaml", "version: s\nentries:\n  - {id: sig.x, level: low}\n", "sig.x"),
    ],
)
def test_a_bad_rule_set_or_signal_file_is_refused_naming_the_entry_and_nothing_is_saved(
    chat_ready, admin_user, client, field, text, message
):
    from django.urls import reverse

    from ari_review.api.errors import ApplicationError
    from conversations.models import Release, ReleaseContent
    from tests.conftest import client_for
    from training_jobs.releases.services import release_create

    live_release_adopt()
    counts = (Release.objects.count(), ReleaseContent.objects.count())
    with pytest.raises(ApplicationError, match=re.escape(message)):
        release_create(created_by=admin_user, **{field: text})
    answer = client_for(admin_user).post(
        reverse("api-release-create"), {field: text}, format="json"
    )
    assert answer.status_code == 400 and message in answer.content.decode()
    client.force_login(admin_user)
    page = client.post(reverse("training_jobs:release-create"), {field: text}, follow=True)
    assert message in page.content.decode()  # the form's page says why
    assert (Release.objects.count(), ReleaseContent.objects.count()) == counts


def test_the_promotion_page_shows_the_rule_set_diff_escaped(chat_ready, admin_user, client):
    from django.urls import reverse

    from conversations.models import ReleaseContent
    from training_jobs.releases.gate import release_checklist
    from training_jobs.releases.services import release_create

    live_release_adopt()
    changed = _rule_set_with("<b>lighthouse") + "# <script>x</script>\n"
    release = release_create(created_by=admin_user, filter_rules_yaml=changed)
    again = release_create(created_by=admin_user, filter_rules_yaml=changed)
    assert again.filter_rules_id == release.filter_rules_id  # one row per text
    assert ReleaseContent.objects.filter(kind="filter_rules").count() == 2  # shipped + this
    items = {i.key: i for i in release_checklist(release)}
    assert items["contents"].status == "pass" and "rf-test.1" in items["contents"].detail
    client.force_login(admin_user)
    body = client.get(reverse("training_jobs:release-promote", args=[release.pk])).content.decode()
    rule_set = body[body.index('data-testid="diff-filter_rules"') :]
    rule_set = rule_set[: rule_set.index("</figure>")]
    assert '<pre class="diff">' in rule_set and "+  - id: RF-CO-99" in rule_set
    assert "-version: rf-2026.12.1" in rule_set and "+version: rf-test.1" in rule_set
    assert "&lt;script&gt;" in rule_set and "<script>x" not in body
    signals = body[body.index('data-testid="diff-risk_signals"') :]
    assert "no change" in signals[: signals.index("</figure>")]


def test_an_evaluation_run_plays_the_releases_rule_set(chat_ready, admin_user, enduser):
    """The smoke tests' edge-set run serves the candidate's rule set, not the loaded one."""
    from conversations.rollout import GenerationConfig
    from training_jobs.releases.services import release_create

    live_release_adopt()
    text = "Work has been a lot lately."
    probe = _turn(UserFactory(username="probe", role="enduser"), text).reply
    release = release_create(
        created_by=admin_user, filter_rules_yaml=_rule_set_with(_a_word_of(probe))
    )
    assert release.filter_rules is not None
    config = {"generator": "approved", "filter_rules": release.filter_rules.sha256}
    session = session_create(user=enduser, session_type="check_in")
    reply = chat_turn_run(
        session=session, text=text, generation_config=GenerationConfig.of(config)
    ).reply
    assert "RF-CO-99" in {hit["rule"] for hit in reply.filter_hits}
