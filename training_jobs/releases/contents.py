"""What a release carries besides its models, and what of it this deployment can serve.

The generation configuration is served per arm (``conversations.rollout``): a release may set its
generator, persona prompt version and LLM model name. The response-filter rule set and the
risk-signal file are code (``conversations/content/filter_rules.yaml``,
``conversations/backends/risk_signals.yaml``): one version per deployment serves everyone, so a
release records the version and a release whose recorded version is not the loaded one cannot be
served (promotion to staging refuses it and its checklist fails).
"""

from __future__ import annotations

from django.conf import settings

from ari_review.api.errors import ApplicationError
from conversations.models import Release


def release_contents_snapshot() -> dict:
    """What a new release carries besides its models: the generation configuration, the
    response-filter rule set and the risk-signal file in force now."""
    from conversations.backends.safety_rules import RULESET_VERSION as SIGNALS_VERSION
    from conversations.selectors import persona_prompt_get_active
    from conversations.services.filter.rules import RULESET_VERSION as FILTER_VERSION

    persona = persona_prompt_get_active()
    return {
        "generation_config": {
            "generator": settings.ARI_GENERATOR,
            "persona_prompt_version": persona.version if persona else None,
            "llm_model": settings.OPENAI_MODEL if settings.ARI_GENERATOR == "openai" else "",
            "transformers_model_dir": settings.TRANSFORMERS_MODEL_DIR,
            "adapter": settings.TRANSFORMERS_ADAPTER_DIR,
        },
        "filter_ruleset_version": FILTER_VERSION,
        "risk_signals_version": SIGNALS_VERSION,
    }


# What a release may set of its generation configuration (served per arm); the transformers
# model directory and adapter are recorded from the settings only.
SERVED_GENERATION_KEYS = ("generator", "persona_prompt_version", "llm_model")


def generation_config_checked(overrides: dict | None) -> dict:
    """The generation configuration in force, with a release's own choices (checked)."""
    from conversations.backends.generation import BACKENDS
    from conversations.models import PersonaPrompt

    config = dict(release_contents_snapshot()["generation_config"])
    overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
    unknown = sorted(set(overrides) - set(SERVED_GENERATION_KEYS))
    if unknown:
        raise ApplicationError(
            f"A release's generation configuration sets only {', '.join(SERVED_GENERATION_KEYS)} "
            f"(not {', '.join(unknown)})."
        )
    generator = overrides.get("generator", config["generator"])
    if generator not in BACKENDS:
        raise ApplicationError(f"Generator {generator!r} is not one of {', '.join(BACKENDS)}.")
    version = overrides.get("persona_prompt_version")
    if version is not None:
        if not str(version).isdigit() or not PersonaPrompt.objects.filter(version=version).exists():
            raise ApplicationError(f"Persona prompt version {version} does not exist.")
        overrides["persona_prompt_version"] = int(version)
    if "llm_model" in overrides and generator != "openai":
        raise ApplicationError("An LLM model name is served only with the openai generator.")
    if generator == "openai" and "generator" in overrides and "llm_model" not in overrides:
        overrides["llm_model"] = settings.OPENAI_MODEL
    config.update(overrides)
    return config


def release_contents_unloadable(release: Release) -> list[str]:
    """Why this process cannot serve what ``release`` records of the response-filter rule set
    and the risk-signal file: they are code, one version per deployment, so a release whose
    recorded version is not the loaded one cannot be served (empty: it can)."""
    loaded = release_contents_snapshot()
    problems = []
    for field, label in (
        ("filter_ruleset_version", "response-filter rule set"),
        ("risk_signals_version", "risk-signal file"),
    ):
        recorded = str(getattr(release, field) or "")
        if recorded and recorded != str(loaded[field]):
            problems.append(
                f"its {label} is version {recorded}, this deployment loads {loaded[field]}"
            )
    return problems
