"""Helpers of the release tests: a chat-ready database with a live release, candidate model
versions, and a release walked to a stage through the real services."""

from __future__ import annotations

import re
from pathlib import Path

from conversations.models import Release, ReleaseStage
from conversations.rollout import arm_for
from tests.factories import UserFactory
from training_jobs.models import ModelVersion
from training_jobs.releases.services import release_bootstrap, release_create, release_promote

STAGES = ["draft", "staging", "canary_5", "canary_25", "canary_50", "live"]


def live_release_adopt() -> Release:
    """The versions active in the test database adopted as the live release (as on an
    installation that served before releases existed)."""
    assert release_bootstrap() is None
    return Release.objects.get(stage=ReleaseStage.LIVE)


def version_copy(source: ModelVersion, name: str, **fields) -> ModelVersion:
    """Another version row of ``source``'s kind and artifact (a candidate that serves the same
    model, so only the release machinery differs)."""
    values = {
        "kind": source.kind,
        "backend": source.backend,
        "artifact_path": source.artifact_path,
        "thresholds": source.thresholds,
        "metrics": source.metrics,
        "train_data_hash": "x",
        "test_data_hash": "y",
        "gate_passed": True,
    }
    values.update(fields)
    return ModelVersion.objects.create(name=name, **values)


def broken_intent_version(tmp_path: Path) -> ModelVersion:
    """An intent version whose artifact directory exists but is damaged (empty): the canary
    arm's model fails on every turn, a real fault."""
    directory = tmp_path / "broken-intent"
    directory.mkdir()
    return ModelVersion.objects.create(
        name="intent-broken",
        kind="intent",
        backend="linear",
        artifact_path=str(directory),
        train_data_hash="x",
        test_data_hash="y",
        gate_passed=True,
        metrics={"accuracy": 0.9},
    )


def release_to(release: Release, stage: str, admin) -> Release:
    """Promote ``release`` stage by stage up to ``stage`` (overriding what the gate holds back:
    these tests are about what happens in the stage, not the gate)."""
    while release.stage != stage:
        release = release_promote(
            release_id=release.pk,
            user=admin,
            from_stage=release.stage,
            override_reason="test: walking the stages",
        )
    return release


def candidate(admin, stage: str, **versions) -> Release:
    return release_to(release_create(**versions, created_by=admin), stage, admin)


def users_in_arms(release: Release, per_arm: int, prefix: str = "u") -> dict[str, list]:
    """End users, ``per_arm`` in each arm of ``release`` (as the hash assigns them)."""
    arms: dict[str, list] = {"control": [], "canary": []}
    i = 0
    while min(len(v) for v in arms.values()) < per_arm:
        user = UserFactory(username=f"{prefix}{i}", role="enduser")
        i += 1
        arm = arm_for(f"u{user.pk}", release.pk, release.canary_percent)
        if len(arms[arm]) < per_arm:
            arms[arm].append(user)
    return arms


def versioned(text: str, version: str) -> str:
    """A shipped file's text under another version (the first ``version:`` line)."""
    return re.sub(r"(?m)^version: .*$", f"version: {version}", text, count=1)
