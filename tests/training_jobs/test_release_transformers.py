"""A release serves its transformers model directory and PEFT adapter per arm, through the real
chat turn, sticky per user; a directory that holds no model (or no adapter) is refused by the
service, the API and the form (docs/releases.md, "What a release carries")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ari_review.api.errors import ApplicationError
from conversations.backends.generation import generators_reset
from conversations.backends.generation.local_transformers import loaded_models_reset
from conversations.models import Message, Release
from conversations.rollout import CANARY, CONTROL
from conversations.services import chat_turn_run, session_create
from evaluation.services.starter import starter_content_load
from tests.conftest import client_for
from tests.conversations.tiny_lm import build_tiny_lm, build_tiny_lora
from tests.training_jobs.releases import live_release_adopt, release_to, users_in_arms
from training_jobs.releases.services import release_create

# An everyday greeting far below every threshold of the test models (the subject here is the
# generator; "Hi Ari" sat on the linear test model's question threshold).
GREETING = "Hello Ari, how are you?"


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Two tiny model directories and a LoRA adapter on the first (built here, no download)."""
    root = tmp_path_factory.mktemp("release_models")
    first = build_tiny_lm(root / "tiny_first")
    second = build_tiny_lm(root / "tiny_second")
    build_tiny_lora(first, root / "tiny_lora")
    return {"first": first, "second": second, "lora": root / "tiny_lora"}


@pytest.fixture
def chat_ready(settings, active_models):
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "approved"
    settings.TRANSFORMERS_MODEL_DIR = ""
    settings.TRANSFORMERS_ADAPTER_DIR = ""
    settings.TRANSFORMERS_MAX_NEW_TOKENS = 6
    settings.ARI_RELEASE_STAGING_DWELL_MINUTES = 0
    settings.ARI_RELEASE_CANARY_DWELL_MINUTES = 0
    generators_reset()
    loaded_models_reset()
    starter_content_load()
    yield active_models
    generators_reset()
    loaded_models_reset()


def _transformers(model_dir, adapter=None) -> dict:
    config = {"generator": "transformers", "transformers_model_dir": str(model_dir)}
    if adapter is not None:
        config["adapter"] = str(adapter)
    return config


@pytest.mark.parametrize("candidate", ["second_model", "adapter"])
def test_each_arm_is_served_its_releases_model_directory_and_adapter_sticky(
    chat_ready, admin_user, tiny_models, candidate
):
    live_release_adopt()
    served_first = release_create(
        created_by=admin_user, generation_config=_transformers(tiny_models["first"])
    )
    release_to(served_first, "live", admin_user)
    if candidate == "adapter":
        config = _transformers(tiny_models["first"], tiny_models["lora"])
        canary_model = "tiny_first+tiny_lora"
    else:
        config = _transformers(tiny_models["second"])
        canary_model = "tiny_second"
    release = release_to(
        release_create(created_by=admin_user, generation_config=config), "canary_50", admin_user
    )
    assert release.generation_config["adapter"] == config.get("adapter", "")

    expected = {CONTROL: "transformers:tiny_first", CANARY: f"transformers:{canary_model}"}
    for arm, users in users_in_arms(release, 2).items():
        for user in users:
            for _ in range(2):  # two sessions: the same arm, the same model
                session = session_create(user=user, session_type="check_in")
                reply = chat_turn_run(session=session, text=GREETING).reply
                assert reply.rollout_arm == arm
                assert reply.provenance["backend"] == "transformers", reply.provenance
                assert "fallback_from" not in reply.provenance
                assert reply.model_versions["generator"] == expected[arm]
    # What produced each reply is kept on the message.
    stored = Message.objects.filter(release=release, role="assistant")
    assert {(m.rollout_arm, m.model_versions["generator"]) for m in stored} == set(expected.items())


def test_the_settings_model_directory_serves_a_release_that_keeps_it(
    chat_ready, admin_user, tiny_models, settings
):
    """A release that sets only the generator records the settings' directories and serves them;
    the adapter of the settings does not follow a model directory the release names."""
    settings.TRANSFORMERS_MODEL_DIR = str(tiny_models["first"])
    settings.TRANSFORMERS_ADAPTER_DIR = str(tiny_models["lora"])
    kept = release_create(generation_config={"generator": "transformers"})
    assert kept.generation_config["transformers_model_dir"] == str(tiny_models["first"])
    assert kept.generation_config["adapter"] == str(tiny_models["lora"])
    own = release_create(generation_config=_transformers(tiny_models["second"]))
    assert own.generation_config["adapter"] == ""


def _bad_cases(tiny_models, tmp_path) -> dict[str, tuple[dict, str]]:
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    first = tiny_models["first"]
    return {
        "relative": (_transformers("tiny_first"), "is not an absolute path"),
        "missing": (_transformers(tmp_path / "nowhere"), "is not a directory on this server"),
        "no_model": (_transformers(empty), "holds no config.json"),
        "no_adapter": (_transformers(first, first), "holds no adapter_config.json"),
        "adapter_alone": (
            {"generator": "transformers", "adapter": str(tiny_models["lora"])},
            "needs a model directory",
        ),
        "other_generator": (
            {"generator": "composed", "transformers_model_dir": str(first)},
            "served only with the transformers generator",
        ),
    }


CASES = ["relative", "missing", "no_model", "no_adapter", "adapter_alone", "other_generator"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_model_or_adapter_directory_is_refused_by_service_api_and_form(
    chat_ready, admin_user, client, tiny_models, tmp_path, case
):
    config, message = _bad_cases(tiny_models, tmp_path)[case]
    before = Release.objects.count()

    with pytest.raises(ApplicationError, match=message):
        release_create(created_by=admin_user, generation_config=config)

    answer = client_for(admin_user).post(reverse("api-release-create"), config, format="json")
    assert answer.status_code == 400
    assert message in answer.json()["detail"]

    client.force_login(admin_user)
    page = client.post(reverse("training_jobs:release-create"), config, follow=True)
    assert message in page.content.decode()
    assert Release.objects.count() == before
