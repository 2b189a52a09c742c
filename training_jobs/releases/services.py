"""Writes of releases: create, promote one stage, roll back, acknowledge alerts, the first
release of a fresh install, and the monitor's automatic rollback (docs/releases.md).

Every stage change runs in one transaction with the release row (and the live one) locked
``select_for_update``, checks the stage the admin saw (``from_stage``), and is audited; two
admins promoting at once leave one consistent state: the second is told the release moved on.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.ttl_cache import ttl_cache_invalidate
from conversations.models import RELEASE_IN_FLIGHT, Release, ReleaseStage
from conversations.rollout import SERVING_RELEASES_KEY
from conversations.services.crisis import notifications_queue
from training_jobs.models import ModelKind, ModelVersion, ReleaseEvent
from training_jobs.releases import gate
from training_jobs.releases.contents import release_contents_checked
from training_jobs.releases.monitor import canary_verdict
from training_jobs.releases.registry import model_version_activate, model_version_check_servable
from training_jobs.releases.smoke import release_smoke_tests_queue

logger = logging.getLogger(__name__)

NEXT_STAGE: dict[str, str] = {
    ReleaseStage.DRAFT: ReleaseStage.STAGING,
    ReleaseStage.STAGING: ReleaseStage.CANARY_5,
    ReleaseStage.CANARY_5: ReleaseStage.CANARY_25,
    ReleaseStage.CANARY_25: ReleaseStage.CANARY_50,
    ReleaseStage.CANARY_50: ReleaseStage.LIVE,
}
REASON_MAX = 2000


def _check_version(version: ModelVersion | None, kind: str) -> None:
    if version is not None and version.kind != kind:
        raise ApplicationError(f"Model version {version.name} is not a {kind} model.")


def _live_versions() -> dict:
    return {
        kind: ModelVersion.objects.filter(kind=kind, is_active=True).first()
        for kind in ModelKind.values
    }


def release_create(
    *,
    safety_version: ModelVersion | None = None,
    intent_version: ModelVersion | None = None,
    notes: str = "",
    created_by=None,
    generation_config: dict | None = None,
    filter_rules_yaml: str | None = None,
    risk_signals_yaml: str | None = None,
) -> Release:
    """A draft release. A model left out is the one serving now (the candidate changes only
    what it names); so is each key of the generation configuration it does not set
    (``generation_config``: ``generator``, ``persona_prompt_version``, ``llm_model``,
    ``transformers_model_dir``, ``adapter``; ``contents.generation_config_checked``). It
    carries the response-filter rule set and the risk-signal file as YAML text: the shipped
    files, or ``filter_rules_yaml`` / ``risk_signals_yaml`` (checked with the shipped files'
    loaders; a bad entry is refused naming it, and nothing is saved)."""
    _check_version(safety_version, ModelKind.SAFETY)
    _check_version(intent_version, ModelKind.INTENT)
    live = _live_versions()
    safety_version = safety_version or live[ModelKind.SAFETY]
    intent_version = intent_version or live[ModelKind.INTENT]
    if safety_version is None and intent_version is None:
        raise ApplicationError("A release needs a safety or an intent model version.")
    with transaction.atomic():
        contents = release_contents_checked(
            generation_config=generation_config,
            filter_rules_yaml=filter_rules_yaml,
            risk_signals_yaml=risk_signals_yaml,
        )
        release = Release.objects.create(
            name=f"release-{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}",
            safety_version=safety_version,
            intent_version=intent_version,
            notes=notes[:REASON_MAX],
            created_by=created_by if getattr(created_by, "pk", None) else None,
            stage_changed_at=timezone.now(),
            **contents,
        )
        audit_event_record(
            actor=created_by,
            action="release.create",
            obj=release,
            before=None,
            after=_release_state(release),
        )
    return release


# What an edit of a draft may change, and how the timeline names each field.
EDITABLE_FIELDS = {
    "generation_config": "generation configuration",
    "filter_rules": "response-filter rule set",
    "risk_signals": "risk-signal file",
    "notes": "notes",
}
NOT_EDITABLE_WHY = (
    "what it serves was fixed when it entered staging (its smoke tests, checklist and metrics "
    "were computed from it). Create a new draft release with the change instead."
)


def release_draft_update(
    *,
    release_id: int,
    user,
    generation_config: dict | None = None,
    filter_rules_yaml: str | None = None,
    risk_signals_yaml: str | None = None,
    notes: str | None = None,
) -> Release:
    """Change a draft release's generation configuration, rule set, signal file or notes (None:
    unchanged), checked as on creation (``contents.release_contents_checked``; a refused edit
    saves nothing). Only a draft may be edited: a later stage is refused saying why. The edit is
    on the release's timeline and audited as ``release.edit`` with the fields it changed (their
    versions and sha256, never the texts)."""
    with transaction.atomic():
        release = Release.objects.select_for_update().filter(pk=release_id).first()
        if release is None:
            raise ApplicationError("No such release.", status_code=404)
        if release.stage != ReleaseStage.DRAFT:
            raise ApplicationError(
                f"A {release.get_stage_display()} release cannot be edited: {NOT_EDITABLE_WHY}"
            )
        fields = release_contents_checked(
            base=release,
            generation_config=generation_config,
            filter_rules_yaml=filter_rules_yaml,
            risk_signals_yaml=risk_signals_yaml,
        )
        if notes is not None:
            fields["notes"] = notes[:REASON_MAX]
        changed = [f for f in EDITABLE_FIELDS if f in fields and fields[f] != getattr(release, f)]
        if not changed:
            return release
        before = _release_state(release)
        for field, value in fields.items():
            setattr(release, field, value)
        release.save(update_fields=list(fields))
        labels = [EDITABLE_FIELDS[f] for f in changed]
        _event(
            release,
            ReleaseEvent.Kind.EDIT,
            actor=user,
            reason="Changed: " + ", ".join(labels),
            evidence={"fields": changed},
        )
        audit_event_record(
            actor=user,
            action="release.edit",
            obj=release,
            before=before,
            after={**_release_state(release), "fields": changed},
        )
    logger.info("release draft edited release_id=%s fields=%s", release.pk, ",".join(changed))
    return release


def _release_state(release: Release) -> dict:
    return {
        "stage": release.stage,
        "safety_version": getattr(release.safety_version, "name", None),
        "intent_version": getattr(release.intent_version, "name", None),
        "filter_ruleset_version": release.filter_ruleset_version,
        "filter_rules_sha256": getattr(release.filter_rules, "sha256", None),
        "risk_signals_version": release.risk_signals_version,
        "risk_signals_sha256": getattr(release.risk_signals, "sha256", None),
        "generation_config": release.generation_config,
    }


def _event(release, kind, *, actor=None, from_stage="", to_stage="", reason="", evidence=None):
    return ReleaseEvent.objects.create(
        release=release,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        evidence=evidence or {},
    )


def _check_approver(release: Release, user) -> None:
    if not settings.ARI_RELEASE_SEPARATE_APPROVER:
        return
    makers = {release.created_by_id}
    for version in (release.safety_version, release.intent_version):
        if version is not None:
            makers.add(version.created_by_id)
    if user.pk in makers:
        raise ApplicationError(
            "ARI_RELEASE_SEPARATE_APPROVER is on: the person who created this release or "
            "trained its models cannot approve it."
        )


def _activate_versions(release: Release, user) -> None:
    for version in (release.safety_version, release.intent_version):
        if version is not None:
            model_version_activate(version=version, user=user)


def _set_stage(release: Release, stage: str, now) -> None:
    release.stage = stage
    release.stage_changed_at = now
    try:
        with transaction.atomic():  # a savepoint: the unique constraints speak last
            release.save(update_fields=["stage", "stage_changed_at", "incumbent"])
    except IntegrityError:
        raise ApplicationError(
            "Another release is already in staging or canary: finish or roll it back first."
        ) from None


def release_promote(
    *, release_id: int, user, from_stage: str, override_reason: str = ""
) -> Release:
    """Move the release one stage on, if the stage the admin saw (``from_stage``) is still its
    stage, the dwell time has passed and the checklist allows it (or an admin overrides it with
    a written reason)."""
    override_reason = (override_reason or "").strip()[:REASON_MAX]
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",))
            .select_related("safety_version", "intent_version", "incumbent")
            .filter(pk=release_id)
            .first()
        )
        if release is None:
            raise ApplicationError("No such release.", status_code=404)
        if release.stage != from_stage:
            raise ApplicationError(
                f"This release is now {release.get_stage_display()}, not {from_stage}: someone "
                "else moved it. Reload the page and check again."
            )
        target = NEXT_STAGE.get(release.stage)
        if target is None:
            raise ApplicationError(f"A {release.get_stage_display()} release cannot be promoted.")
        _check_approver(release, user)
        live = Release.objects.select_for_update().filter(stage=ReleaseStage.LIVE).first()
        if target == ReleaseStage.STAGING:
            release.incumbent = live
            for version in (release.safety_version, release.intent_version):
                if version is not None:
                    model_version_check_servable(version)
        items = gate.release_checklist(release)
        blocked = gate.blocking(items, target=target) if release.stage != ReleaseStage.DRAFT else []
        evidence = {"checklist": [i.as_dict() for i in items]}
        if blocked:
            if not override_reason:
                raise ApplicationError(
                    "Promotion is blocked by the checklist: "
                    + "; ".join(f"{i.label} ({i.status}: {i.detail})" for i in blocked)
                    + ". An admin may override it with a written reason."
                )
            _event(
                release,
                ReleaseEvent.Kind.OVERRIDE,
                actor=user,
                from_stage=release.stage,
                to_stage=target,
                reason=override_reason,
                evidence={"blocking": [i.as_dict() for i in blocked]},
            )
            audit_event_record(
                actor=user,
                action="release.override",
                obj=release,
                before={"blocking": [i.key for i in blocked]},
                after={"to_stage": target, "reason": override_reason},
            )
        before = _release_state(release)
        now = timezone.now()
        if target == ReleaseStage.LIVE:
            if live is not None:
                _set_stage(live, ReleaseStage.RETIRED, now)
                _event(
                    live, ReleaseEvent.Kind.STAGE, actor=user, from_stage="live", to_stage="retired"
                )
            _activate_versions(release, user)
        _set_stage(release, target, now)
        if target == ReleaseStage.STAGING:
            release_smoke_tests_queue(release=release)  # the job starts after the commit
        _event(
            release,
            ReleaseEvent.Kind.STAGE,
            actor=user,
            from_stage=before["stage"],
            to_stage=target,
            reason=override_reason,
            evidence=evidence,
        )
        audit_event_record(
            actor=user,
            action="release.promote",
            obj=release,
            before=before,
            after=_release_state(release),
        )
        ttl_cache_invalidate(SERVING_RELEASES_KEY)
    logger.info("release promoted release_id=%s stage=%s", release.pk, target)
    return release


def release_rollback(
    *,
    release_id: int,
    user=None,
    reason: str,
    from_stage: str | None = None,
    automatic: bool = False,
    evidence=None,
) -> Release:
    """Take the release back from any stage: a candidate stops serving at once; a live release
    gives way to the incumbent it replaced (its model versions active again), in one
    transaction."""
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise ApplicationError("Say why the release is rolled back.")
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",))
            .select_related("incumbent__safety_version", "incumbent__intent_version")
            .filter(pk=release_id)
            .first()
        )
        if release is None:
            raise ApplicationError("No such release.", status_code=404)
        if from_stage is not None and release.stage != from_stage:
            raise ApplicationError(
                f"This release is now {release.get_stage_display()}: someone else moved it. "
                "Reload the page and check again."
            )
        before = _release_state(release)
        now = timezone.now()
        if release.stage == ReleaseStage.LIVE:
            previous = release.incumbent
            if previous is None:
                raise ApplicationError("The first release has no incumbent to roll back to.")
            _set_stage(release, ReleaseStage.ROLLED_BACK, now)
            Release.objects.select_for_update().filter(pk=previous.pk).get()
            _set_stage(previous, ReleaseStage.LIVE, now)
            _event(
                previous,
                ReleaseEvent.Kind.STAGE,
                actor=user,
                from_stage="retired",
                to_stage="live",
                reason=reason,
            )
            _activate_versions(previous, user)
        elif release.stage in RELEASE_IN_FLIGHT or release.stage == ReleaseStage.DRAFT:
            _set_stage(release, ReleaseStage.ROLLED_BACK, now)
        else:
            raise ApplicationError(
                f"A {release.get_stage_display()} release cannot be rolled back."
            )
        release.rollback_reason = reason
        release.rolled_back_at = now
        release.save(update_fields=["rollback_reason", "rolled_back_at"])
        _event(
            release,
            ReleaseEvent.Kind.ROLLBACK,
            actor=user,
            from_stage=before["stage"],
            to_stage=ReleaseStage.ROLLED_BACK,
            reason=reason,
            evidence=evidence,
        )
        if automatic:
            _event(
                release,
                ReleaseEvent.Kind.ALERT,
                from_stage=before["stage"],
                to_stage=ReleaseStage.ROLLED_BACK,
                reason=f"Rolled back automatically: {reason}",
                evidence=evidence,
            )
            # The admins on call hear it by e-mail too (the escalation outbox, sent after commit
            # and by the beat sweep); the text holds metrics only, never what a user wrote.
            notifications_queue(
                subject=f"Ari: release {release.name} rolled back automatically",
                body=(
                    f"The release monitor rolled back release {release.name} "
                    f"(id {release.pk}) from {before['stage']}: {reason}\n\n"
                    f"The incumbent serves everyone again. Acknowledge the alert on the release "
                    f"page (/models/releases/{release.pk}/)."
                ),
            )
        audit_event_record(
            actor=user,
            action="release.rollback.auto" if automatic else "release.rollback",
            obj=release,
            before=before,
            after={"stage": release.stage, "reason": reason},
        )
        ttl_cache_invalidate(SERVING_RELEASES_KEY)
    log = logger.error if automatic else logger.warning
    log("release rolled back release_id=%s automatic=%s", release.pk, automatic)
    return release


def release_alert_acknowledge(*, event_id: int, user) -> ReleaseEvent:
    with transaction.atomic():
        event = (
            ReleaseEvent.objects.select_for_update()
            .filter(pk=event_id, kind=ReleaseEvent.Kind.ALERT)
            .first()
        )
        if event is None:
            raise ApplicationError("No such alert.", status_code=404)
        if event.acknowledged_at is None:
            event.acknowledged_at = timezone.now()
            event.save(update_fields=["acknowledged_at"])
            audit_event_record(
                actor=user,
                action="release.alert.acknowledge",
                obj=event,
                before={"acknowledged": False},
                after={"acknowledged": True},
            )
    return event


def release_bootstrap(*, safety_version=None, intent_version=None) -> Release | None:
    """The quick start's first release: with no live release and no active model yet (nothing
    to compare a canary with), the system creates one from the given versions and puts it live
    at once, audited as ``release.bootstrap``; returns it.

    Returns None when a release is live already, or when model versions were active before
    releases existed: those are then adopted as the live release (audited the same way), and
    the given versions must go through staging and canary like any other candidate.
    """
    with transaction.atomic():
        if Release.objects.select_for_update().filter(stage=ReleaseStage.LIVE).exists():
            return None
        adopt = any(_live_versions().values())
        if adopt:
            release = release_create(notes="The model versions active before releases existed.")
            reason = "adopted: the model versions active before releases existed"
        else:
            release = release_create(
                safety_version=safety_version,
                intent_version=intent_version,
                notes="First release of this installation, put live by the system.",
            )
            reason = "bootstrap: no incumbent to compare with"
            _activate_versions(release, None)
        _set_stage(release, ReleaseStage.LIVE, timezone.now())
        _event(
            release,
            ReleaseEvent.Kind.STAGE,
            from_stage=ReleaseStage.DRAFT,
            to_stage=ReleaseStage.LIVE,
            reason=reason,
        )
        audit_event_record(
            actor=None,
            action="release.bootstrap",
            obj=release,
            before=None,
            after={**_release_state(release), "reason": reason},
        )
        ttl_cache_invalidate(SERVING_RELEASES_KEY)
    return None if adopt else release


def release_monitor_run() -> dict:
    """Compare the canary arm of the release in flight with its control arm; on a breach, roll
    it back at once and alert the admins (the beat job ``training-release-monitor``)."""
    release = (
        Release.objects.filter(stage__in=[s for s, p in RELEASE_IN_FLIGHT.items() if p > 0])
        .select_related("safety_version", "intent_version")
        .first()
    )
    if release is None:
        return {"release": None}
    verdict = canary_verdict(release)
    check = {"at": timezone.now().isoformat(), **verdict.as_dict()}
    Release.objects.filter(pk=release.pk).update(last_check=check)
    if verdict.breaches:
        try:
            release_rollback(
                release_id=release.pk,
                reason="; ".join(verdict.breaches),
                from_stage=release.stage,
                automatic=True,
                evidence=check,
            )
        except ApplicationError:  # rolled back or promoted by hand meanwhile
            logger.info("monitor found release_id=%s already moved", release.pk)
    logger.info(
        "release monitor release_id=%s sample=%s breaches=%s",
        release.pk,
        verdict.enough_sample,
        len(verdict.breaches),
    )
    return {"release": release.pk, "breaches": verdict.breaches}
