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
import json
import os

from django.conf import settings

from ari_review.api.errors import ApplicationError
from conversations.models import PersonaPrompt, Release
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

# The version a release records of each (also for one created before it carried the text).
VERSION_FIELDS = {FILTER_RULES: "filter_ruleset_version", RISK_SIGNALS: "risk_signals_version"}


def release_contents_checked(
    *,
    generation_config: dict | None = None,
    filter_rules_yaml: str | None = None,
    risk_signals_yaml: str | None = None,
    base: Release | None = None,
) -> dict:
    """The fields of what a release carries besides its models, checked: its generation
    configuration (:func:`generation_config_checked`), and its response-filter rule set and
    risk-signal file (the given YAML texts, checked with the shipped files' loaders and stored
    once per text; blank: the shipped files).

    For a new release (``base`` None) all of them: what is not given is the configuration in
    force now and the shipped files. For a draft being edited (``base``) only what is given
    (None: unchanged). Raises :class:`ApplicationError` naming what is wrong; the caller's
    transaction keeps nothing of a refused edit."""
    fields: dict = {}
    if base is None or generation_config is not None:
        fields["generation_config"] = generation_config_checked(
            generation_config, base=base.generation_config if base is not None else None
        )
    for kind, text in ((FILTER_RULES, filter_rules_yaml), (RISK_SIGNALS, risk_signals_yaml)):
        if base is None or text is not None:
            content = release_content_store(kind=kind, text=text)
            fields[kind] = content
            fields[VERSION_FIELDS[kind]] = content.version
    return fields


# What a release may set of its generation configuration, all of it served per arm.
SERVED_GENERATION_KEYS = (
    "generator",
    "persona_prompt_version",
    "llm_model",
    "transformers_model_dir",
    "adapter",
)
# The keys that belong to one backend (given only with it, reset when the generator changes),
# and how an error names them.
BACKEND_KEYS = {
    "llm_model": ("openai", "An LLM model name"),
    "transformers_model_dir": ("transformers", "A transformers model directory"),
    "adapter": ("transformers", "An adapter"),
}
# What a model directory and an adapter directory must hold (``save_pretrained``'s config files)
# and the key each config names its kind by.
MODEL_CONFIG = ("config.json", "model_type", "transformers model directory")
ADAPTER_CONFIG = ("adapter_config.json", "peft_type", "PEFT adapter directory")


def generation_config_checked(changes: dict | None, *, base: dict | None = None) -> dict:
    """A release's generation configuration: ``base`` (a draft's, when it is edited; None: the
    configuration in force now) with ``changes`` applied, checked.

    On creation a blank value is "not set": the one in force. On an edit a key left out keeps
    the draft's value and a blank one goes back to the one in force (``adapter``: no adapter).
    A new generator starts its backend's keys from the settings (``BACKEND_KEYS``), and a model
    directory given then without an adapter serves none (the settings' adapter belongs to the
    settings' model). With the ``transformers`` generator, the directories it would serve must
    hold a saved model and a PEFT adapter."""
    from conversations.backends.generation import BACKENDS

    changes = {k: v.strip() if isinstance(v, str) else v for k, v in (changes or {}).items()}
    unknown = sorted(set(changes) - set(SERVED_GENERATION_KEYS))
    if unknown:
        raise ApplicationError(
            f"A release's generation configuration sets only {', '.join(SERVED_GENERATION_KEYS)} "
            f"(not {', '.join(unknown)})."
        )
    in_force = _generation_in_force()
    config = {**in_force, **(base or {})}
    given = {k: v for k, v in changes.items() if v not in (None, "")}
    reset = {k for k in changes if k not in given} if base is not None else set()
    generator = given.get(
        "generator", in_force["generator"] if "generator" in reset else config["generator"]
    )
    if generator not in BACKENDS:
        raise ApplicationError(f"Generator {generator!r} is not one of {', '.join(BACKENDS)}.")
    defaults = {**in_force, **_backend_defaults(generator)}
    switched = generator != config["generator"]
    if switched:
        config.update(_backend_defaults(generator))
    config["generator"] = generator
    for key in reset - {"generator"}:
        config[key] = "" if key == "adapter" else defaults[key]
    version = given.get("persona_prompt_version")
    if version is not None:
        if not str(version).isdigit() or not PersonaPrompt.objects.filter(version=version).exists():
            raise ApplicationError(f"Persona prompt version {version} does not exist.")
        given["persona_prompt_version"] = int(version)
    for key, (backend, label) in BACKEND_KEYS.items():
        if key in given and generator != backend:
            raise ApplicationError(f"{label} is served only with the {backend} generator.")
    if "transformers_model_dir" in given and "adapter" not in given and (base is None or switched):
        config["adapter"] = ""  # not the settings' adapter, trained on the settings' model
    config.update(given)
    if generator == "transformers" and {"generator", "transformers_model_dir", "adapter"} & (
        set(given) | reset
    ):
        _model_directories_check(config, given=set(given))
    return config


def _backend_defaults(generator: str) -> dict:
    """The backend keys a release gets from the settings for ``generator``."""
    return {
        "llm_model": settings.OPENAI_MODEL if generator == "openai" else "",
        "transformers_model_dir": settings.TRANSFORMERS_MODEL_DIR,
        "adapter": settings.TRANSFORMERS_ADAPTER_DIR,
    }


def _model_directories_check(config: dict, *, given: set[str]) -> None:
    """The transformers model directory (and adapter) ``config`` serves hold what the backend
    loads; :class:`ApplicationError` naming the directory otherwise. A directory a release
    gives must be absolute (the web and chat processes need not share a working directory)."""
    if not config["transformers_model_dir"]:
        raise ApplicationError(
            "The transformers generator needs a model directory (transformers_model_dir; "
            "TRANSFORMERS_MODEL_DIR is not set)."
        )
    for key, expected in (("transformers_model_dir", MODEL_CONFIG), ("adapter", ADAPTER_CONFIG)):
        if config[key]:
            _directory_check(config[key], expected, absolute=key in given)


def _directory_check(path: str, expected: tuple[str, str, str], *, absolute: bool) -> None:
    filename, kind_key, label = expected
    if absolute and not os.path.isabs(path):
        raise ApplicationError(f"The {label} {path!r} is not an absolute path.")
    if not os.path.isdir(path):
        raise ApplicationError(f"The {label} {path!r} is not a directory on this server.")
    try:
        with open(os.path.join(path, filename), encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ApplicationError(f"The {label} {path!r} holds no {filename}.") from None
    except (OSError, ValueError) as exc:
        raise ApplicationError(
            f"The {label} {path!r} has an unreadable {filename} ({type(exc).__name__})."
        ) from None
    if not isinstance(data, dict) or not data.get(kind_key):
        raise ApplicationError(f"The {filename} in {path!r} names no {kind_key}.")


def _generation_in_force() -> dict:
    from conversations.selectors import persona_prompt_get_active

    persona = persona_prompt_get_active()
    return {
        "generator": settings.ARI_GENERATOR,
        "persona_prompt_version": persona.version if persona else None,
        **_backend_defaults(settings.ARI_GENERATOR),
    }


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


def release_content_text(release: Release | None, kind: str) -> str:
    """The YAML a release serves (one created before releases carried it: the shipped file)."""
    content = getattr(release, kind) if release is not None else None
    return content.text if content is not None else shipped_text(kind)


def release_contents_diff(release: Release, incumbent: Release | None) -> list[dict]:
    """The rule set's and the signal file's unified diff, incumbent to ``release`` (one dict
    per kind: ``caption``, ``diff`` (text, "" when nothing changed), ``changed``)."""
    diffs = []
    for kind in (FILTER_RULES, RISK_SIGNALS):
        old, new = release_content_text(incumbent, kind), release_content_text(release, kind)
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
