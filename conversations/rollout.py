"""Which release and which arm serve a chat turn (the read side of releases, docs/releases.md).

A user (or, without one, a session) is assigned to an arm by a hash of their key and the
release's id: the same arm on every turn and in every session while the release is in flight,
and, because the canary share only grows (5 -> 25 -> 50), a user in the canary at 5% stays in
it at 25% and 50%. The releases in force are read once per ``ARI_CONFIG_CACHE_SECONDS`` (the
in-process TTL cache); the release services invalidate it when a stage changes.

Arms: ``control`` (served by the incumbent, the release at 100%) and ``canary`` (served by the
candidate's model versions and generation configuration). In staging every turn is ``control``
and the candidate's safety model runs beside the incumbent's in shadow.

Each arm also serves its release's generation configuration (:class:`GenerationConfig`: the
generator backend, the persona prompt version, the LLM model name, the transformers model
directory and adapter; a key the release leaves empty is the process's setting; the backend is
built by :func:`generator_for`) and its response-filter rule set. Without any release the
settings and the shipped files serve, as before.

The safety screen reads the live release's risk-signal file; when the candidate's differs, the
candidate's file screens beside it like a candidate safety model (shadow in staging and in the
control arm, served in the canary arm only when more cautious: a candidate only adds caution).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ari_review.ttl_cache import ttl_cached
from conversations.models import RELEASE_IN_FLIGHT, ChatSession, Release, ReleaseStage

if TYPE_CHECKING:
    from conversations.backends.base import Generator

SERVING_RELEASES_KEY = "serving_releases"
CONTROL = "control"
CANARY = "canary"
BUCKETS = 10_000  # a share is a whole number of basis points


@dataclass(frozen=True)
class GenerationConfig:
    """What a release serves of its generation configuration."""

    generator: str = ""
    persona_prompt_version: int | None = None
    llm_model: str = ""
    # The transformers backend's model directory and PEFT adapter directory ("" for the model
    # directory: the settings' pair; with a model directory, "" for the adapter: none).
    transformers_model_dir: str = ""
    adapter: str = ""
    # The release's response-filter rule set and risk-signal file: sha256 of the stored text
    # (``conversations.services.release_contents``); "" is the shipped file.
    filter_rules: str = ""
    risk_signals: str = ""

    @classmethod
    def of(
        cls, config: dict[str, Any] | None, *, filter_rules: str = "", risk_signals: str = ""
    ) -> GenerationConfig:
        config = config or {}
        version = config.get("persona_prompt_version")
        return cls(
            generator=str(config.get("generator") or ""),
            persona_prompt_version=int(version) if version not in (None, "") else None,
            llm_model=str(config.get("llm_model") or ""),
            transformers_model_dir=str(config.get("transformers_model_dir") or ""),
            adapter=str(config.get("adapter") or ""),
            filter_rules=str(filter_rules or config.get("filter_rules") or ""),
            risk_signals=str(risk_signals or config.get("risk_signals") or ""),
        )


def generator_for(config: GenerationConfig) -> Generator:
    """The backend ``config`` names, asking for its LLM model (``openai``) or loading its model
    directory and adapter (``transformers``); built once per process per configuration."""
    from conversations.backends.generation import get_generator

    return get_generator(
        config.generator,
        llm_model=config.llm_model,
        model_dir=config.transformers_model_dir,
        adapter_dir=config.adapter,
    )


@dataclass(frozen=True)
class ServingReleases:
    """The live release and the candidate in flight, as ids and versions (cheap to cache)."""

    live_id: int | None = None
    candidate_id: int | None = None
    candidate_stage: str = ""
    canary_percent: int = 0
    candidate_safety_version_id: int | None = None
    candidate_intent_version_id: int | None = None
    live_generation: GenerationConfig | None = None
    candidate_generation: GenerationConfig | None = None
    # The candidate's risk-signal file (sha256) when it is not the live release's.
    candidate_risk_signals: str | None = None


@dataclass(frozen=True)
class ArmAssignment:
    release_id: int | None
    arm: str
    # The candidate's safety model screens beside the incumbent's: in shadow (staging, and the
    # control arm of a canary) or served when more cautious (the canary arm).
    safety_candidate_version_id: int | None = None
    safety_candidate_served: bool = False
    # The canary arm's intent model (None: the active one).
    intent_version_id: int | None = None
    # The arm's release's generation configuration and rule set (None: the settings and the
    # shipped files).
    generation: GenerationConfig | None = None
    # The risk-signal file of the screen (the live release's; "" the shipped file), and the
    # candidate's when it differs (it screens beside, like a candidate safety model).
    risk_signals: str = ""
    safety_candidate_signals: str | None = None

    @property
    def safety_candidate(self) -> bool:
        """Does a candidate screen beside the incumbent (its model or its signal file)?"""
        return (
            self.safety_candidate_version_id is not None
            or self.safety_candidate_signals is not None
        )


def arm_bucket(key: str, release_id: int) -> int:
    """A stable number in ``[0, BUCKETS)`` for ``key`` in release ``release_id``."""
    digest = hashlib.blake2b(f"{release_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def arm_for(key: str, release_id: int, percent: int) -> str:
    return CANARY if arm_bucket(key, release_id) < percent * (BUCKETS // 100) else CONTROL


def assignment_key(session: ChatSession) -> str:
    """The user when there is one (sticky across sessions), else the session."""
    return f"u{session.user_id}" if session.user_id else f"s{session.public_id}"


def _serving_load() -> ServingReleases:
    rows = list(
        Release.objects.filter(stage__in=[ReleaseStage.LIVE, *RELEASE_IN_FLIGHT]).values(
            "id",
            "stage",
            "safety_version_id",
            "intent_version_id",
            "generation_config",
            "filter_rules__sha256",
            "risk_signals__sha256",
        )
    )
    live = next((r for r in rows if r["stage"] == ReleaseStage.LIVE), None)
    in_flight = next((r for r in rows if r["stage"] in RELEASE_IN_FLIGHT), None)
    live_generation = _generation_of(live) if live else None
    if in_flight is None:
        return ServingReleases(
            live_id=live["id"] if live else None, live_generation=live_generation
        )
    candidate: dict[str, Any] = dict(in_flight)
    live_row: dict[str, Any] = dict(live) if live else {}

    def changed(field: str) -> int | None:  # a model the candidate does not change runs once
        return candidate[field] if candidate[field] != live_row.get(field) else None

    candidate_signals = candidate["risk_signals__sha256"] or ""
    live_signals = live_row.get("risk_signals__sha256") or ""
    return ServingReleases(
        live_id=live_row.get("id"),
        candidate_id=candidate["id"],
        candidate_stage=candidate["stage"],
        canary_percent=RELEASE_IN_FLIGHT[candidate["stage"]],
        candidate_safety_version_id=changed("safety_version_id"),
        candidate_intent_version_id=changed("intent_version_id"),
        live_generation=live_generation,
        candidate_generation=_generation_of(candidate),
        candidate_risk_signals=candidate_signals if candidate_signals != live_signals else None,
    )


def _generation_of(row: Mapping[str, Any]) -> GenerationConfig:
    return GenerationConfig.of(
        row["generation_config"],
        filter_rules=row["filter_rules__sha256"] or "",
        risk_signals=row["risk_signals__sha256"] or "",
    )


def serving_releases_get() -> ServingReleases:
    return ttl_cached(SERVING_RELEASES_KEY, _serving_load)


def arm_assignment_for(session: ChatSession) -> ArmAssignment:
    """The release and arm that serve ``session``'s next turn."""
    serving = serving_releases_get()
    live_signals = serving.live_generation.risk_signals if serving.live_generation else ""
    if serving.candidate_id is None:
        return ArmAssignment(
            release_id=serving.live_id,
            arm=CONTROL if serving.live_id else "",
            generation=serving.live_generation,
            risk_signals=live_signals,
        )
    arm = arm_for(assignment_key(session), serving.candidate_id, serving.canary_percent)
    canary = arm == CANARY
    return ArmAssignment(
        release_id=serving.candidate_id,
        arm=arm,
        safety_candidate_version_id=serving.candidate_safety_version_id,
        safety_candidate_served=canary,
        intent_version_id=serving.candidate_intent_version_id if canary else None,
        generation=serving.candidate_generation if canary else serving.live_generation,
        risk_signals=live_signals,
        safety_candidate_signals=serving.candidate_risk_signals,
    )
