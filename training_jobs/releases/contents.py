"""What a release carries besides its models.

The generation configuration (a release may set its generator, persona prompt version and LLM
model name), the response-filter rule set and the risk-signal file are all served per arm
(``conversations.rollout``). The rule set and the signal file are carried as data: a release
stores the YAML text (``ReleaseContent``, content-addressed, ``conversations.services.
release_contents``): the shipped file's by default, or one an admin gives, checked with the
same loader as the shipped file.
"""

from __future__ import annotations

import difflib

from django.conf import settings

from ari_review.api.errors import ApplicationError
from conversations.models import Release
from conversations.services.release_contents import (
    FILTER_RULES,
    LABELS,
    RISK_SIGNALS,
    SHIPPED_SHA256,
    filter_rule_set_for,
    release_content_store,
    risk_signals_for,
    shipped_text,
)


def release_contents_snapshot(
    *, filter_rules_yaml: str | None = None, risk_signals_yaml: str | None = None
) -> dict:
    """What a new release carries besides its models: the generation configuration in force
    now, and the response-filter rule set and the risk-signal file (the given YAML texts,
    checked, or the shipped files), stored once per text."""
    filter_rules = release_content_store(kind=FILTER_RULES, text=filter_rules_yaml)
    risk_signals = release_content_store(kind=RISK_SIGNALS, text=risk_signals_yaml)
    return {
        "generation_config": _generation_in_force(),
        "filter_rules": filter_rules,
        "filter_ruleset_version": filter_rules.version,
        "risk_signals": risk_signals,
        "risk_signals_version": risk_signals.version,
    }


# What a release may set of its generation configuration (served per arm); the transformers
# model directory and adapter are recorded from the settings only.
SERVED_GENERATION_KEYS = ("generator", "persona_prompt_version", "llm_model")


def generation_config_checked(overrides: dict | None) -> dict:
    """The generation configuration in force, with a release's own choices (checked)."""
    from conversations.backends.generation import BACKENDS
    from conversations.models import PersonaPrompt

    config = dict(_generation_in_force())
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


def _generation_in_force() -> dict:
    from conversations.selectors import persona_prompt_get_active

    persona = persona_prompt_get_active()
    return {
        "generator": settings.ARI_GENERATOR,
        "persona_prompt_version": persona.version if persona else None,
        "llm_model": settings.OPENAI_MODEL if settings.ARI_GENERATOR == "openai" else "",
        "transformers_model_dir": settings.TRANSFORMERS_MODEL_DIR,
        "adapter": settings.TRANSFORMERS_ADAPTER_DIR,
    }


# The version a release records of each (also for one created before it carried the text).
VERSION_FIELDS = {FILTER_RULES: "filter_ruleset_version", RISK_SIGNALS: "risk_signals_version"}


def _compiled_version(kind: str, sha256: str) -> str:
    """The version of the stored (or, for "", the shipped) ``kind``, compiled: raises when
    it does not compile here."""
    if kind == FILTER_RULES:
        return filter_rule_set_for(sha256).version
    return risk_signals_for(sha256)[0]


def release_contents_problems(release: Release) -> list[str]:
    """Why the rule set or the signal file ``release`` carries cannot be served (empty: both
    can). A release created before releases carried them serves the shipped files, so its
    recorded version must be theirs."""
    problems = []
    for kind, field in VERSION_FIELDS.items():
        content = getattr(release, kind)
        if content is None:
            recorded, shipped = getattr(release, field), _compiled_version(kind, "")
            if recorded and recorded != shipped:
                problems.append(
                    f"it records {LABELS[kind]} {recorded} without its text, and the shipped one "
                    f"is {shipped}"
                )
            continue
        try:
            _compiled_version(kind, content.sha256)
        except Exception as exc:
            problems.append(f"its {LABELS[kind]} {content.version} does not compile ({exc})")
    return problems


def release_content_label(release: Release, kind: str) -> str:
    """ "version (sha256 prefix)", and whether it is the shipped file."""
    content = getattr(release, kind)
    if content is None:
        return f"{getattr(release, VERSION_FIELDS[kind])} (the shipped file)"
    shipped = " the shipped file" if content.sha256 == SHIPPED_SHA256[kind] else ""
    return f"{content.version} ({content.sha256[:12]}{shipped})"


def _text_of(release: Release | None, kind: str) -> str:
    """The YAML a release serves (one created before releases carried it: the shipped file)."""
    content = getattr(release, kind) if release is not None else None
    return content.text if content is not None else shipped_text(kind)


def release_contents_diff(release: Release, incumbent: Release | None) -> list[dict]:
    """The rule set's and the signal file's unified diff, incumbent to ``release`` (one dict
    per kind: ``caption``, ``diff`` (text, "" when nothing changed), ``changed``)."""
    diffs = []
    for kind in (FILTER_RULES, RISK_SIGNALS):
        old, new = _text_of(incumbent, kind), _text_of(release, kind)
        was = release_content_label(incumbent, kind) if incumbent else "the shipped file"
        lines = list(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=f"incumbent {was}",
                tofile=f"candidate {release_content_label(release, kind)}",
            )
        )
        diffs.append(
            {
                "kind": kind,
                "caption": f"{LABELS[kind].capitalize()}: changes against the incumbent",
                "diff": "".join(line if line.endswith("\n") else line + "\n" for line in lines),
                "changed": bool(lines),
            }
        )
    return diffs
