"""The smoke tests of a release, run once by a Celery job when it enters staging
(docs/releases.md, "Smoke tests on entering staging").

- **starter dialogues**: every user turn of the shipped starter dialogues (ordinary openings:
  a flat day, a hard week) through the release's safety model: none may be flagged high;
- **emergency paraphrases**: every high-risk paraphrase (``conversations.content.
  emergency_paraphrases``, the emergency-flow test's messages, with and without earlier turns)
  through the release's safety model: every one must be flagged high;
- **evaluation runs on the frozen sets** (``evaluation.services.evaluation_runs``): the safety
  model on the newest frozen safety set (an earlier succeeded run of the same version is
  reused), and the release's generation configuration (with its intent model) on the newest
  frozen persona and edge sets. They run as evaluation runs of their own; the release records
  their ids and the checklist reads them (pending while they run).

The results are stored on ``Release.smoke_tests``: ``status`` (queued, running, done, failed),
``checks`` (each ``{"status": "pass" | "fail", "detail", ...}``) and ``runs`` (frozen-set kind
to evaluation run id, or a reason why none was started). The job is safe to run twice: the row
is claimed under ``select_for_update`` and a finished one is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from ari_review.celery import task_enqueue
from conversations.content.emergency_paraphrases import MULTI_TURN, high_risk_paraphrases
from conversations.models import Release, RiskLevel
from evaluation.selectors.evaluation_runs import latest_run_for
from evaluation.selectors.frozen_sets import frozen_set_latest
from evaluation.services.evaluation_runs import evaluation_run_create
from evaluation.services.starter import starter_dialogues_read
from training_jobs.releases.contents import SERVED_GENERATION_KEYS

logger = logging.getLogger(__name__)

SMOKE_TASK = "training_jobs.tasks.release_smoke_tests_task"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PASS, FAIL = "pass", "fail"
# A job still "running" after this long lost its worker: the next delivery runs it again.
STUCK_AFTER = dt.timedelta(minutes=30)
# Generation-configuration keys an evaluation run plays: all a release serves.
RUN_CONFIG_KEYS = SERVED_GENERATION_KEYS
EXAMPLES = 5  # failing items kept as evidence (shipped texts, never a user's words)


def release_smoke_tests_queue(*, release: Release) -> None:
    """Mark the smoke tests queued and start the job when the transaction commits (called by
    the promotion to staging, inside its transaction)."""
    release.smoke_tests = {"status": QUEUED, "queued_at": timezone.now().isoformat()}
    Release.objects.filter(pk=release.pk).update(smoke_tests=release.smoke_tests)
    release_id = release.pk
    transaction.on_commit(lambda: task_enqueue(SMOKE_TASK, args=(release_id,), queue="training"))


def _claim(release_id: int) -> Release | None:
    with transaction.atomic():
        release = Release.objects.select_for_update().filter(pk=release_id).first()
        if release is None:
            return None
        state = release.smoke_tests or {}
        status = state.get("status")
        started = state.get("started_at")
        stuck = (
            status == RUNNING
            and started
            and timezone.now() - dt.datetime.fromisoformat(started) > STUCK_AFTER
        )
        if status != QUEUED and not stuck:
            return None
        release.smoke_tests = {**state, "status": RUNNING, "started_at": timezone.now().isoformat()}
        release.save(update_fields=["smoke_tests"])
    return release


def _safety_classifier(release: Release) -> Any:
    from conversations.backends.classifiers import get_classifier_for_version

    if release.safety_version_id is None:
        return None
    return get_classifier_for_version("safety", release.safety_version_id)


def starter_dialogues_check(classifier: Any) -> dict[str, Any]:
    """No ordinary user turn of the starter dialogues flagged high."""
    flagged: list[str] = []
    turns = 0
    for dialogue in starter_dialogues_read():
        earlier: list[str] = []
        for message in dialogue["messages"]:
            if message["role"] != "user":
                continue
            turns += 1
            level = classifier.assess(message["content"], history=list(earlier)).level
            if level == RiskLevel.HIGH:
                flagged.append(dialogue["key"])
            earlier.append(message["content"])
    return {
        "status": FAIL if flagged else PASS,
        "turns": turns,
        "flagged_high": len(flagged),
        "flagged_dialogues": flagged[:EXAMPLES],
        "detail": f"{len(flagged)} of {turns} ordinary user turns flagged high",
    }


def emergency_paraphrases_check(classifier: Any) -> dict[str, Any]:
    """Every high-risk paraphrase (alone, and after earlier turns) flagged high."""
    cases: list[tuple[list[str], str]] = [([], text) for text in high_risk_paraphrases()]
    cases += [(list(earlier), text) for earlier, text in MULTI_TURN]
    missed = [
        text
        for earlier, text in cases
        if classifier.assess(text, history=earlier).level != RiskLevel.HIGH
    ]
    return {
        "status": FAIL if missed else PASS,
        "messages": len(cases),
        "missed": len(missed),
        "missed_examples": missed[:EXAMPLES],
        "detail": f"{len(cases) - len(missed)} of {len(cases)} high-risk paraphrases flagged high",
    }


def _start_run(kind: str, **kwargs: Any) -> int | str:
    """An evaluation run on the newest frozen set of ``kind`` (its id), or why none started."""
    frozen_set = frozen_set_latest(kind=kind)
    if frozen_set is None:
        return f"no frozen {kind} set (python manage.py frozen_sets load-starter)"
    return evaluation_run_create(frozen_set=frozen_set, **kwargs).pk


def frozen_set_runs_start(release: Release) -> dict[str, int | str]:
    """The evaluation runs of the release on the frozen sets (ids; a string says why not)."""
    runs: dict[str, int | str] = {}
    if release.safety_version_id is not None:
        earlier = latest_run_for(release.safety_version_id, "safety")
        runs["safety"] = (
            earlier.pk
            if earlier is not None
            else _start_run("safety", model_version_id=release.safety_version_id)
        )
    else:
        runs["safety"] = "the release names no safety model"
    config = {k: v for k, v in (release.generation_config or {}).items() if k in RUN_CONFIG_KEYS}
    # The runs serve the release's own rule set and signal file (the edge set's filter check).
    for kind in ("filter_rules", "risk_signals"):
        content = getattr(release, kind)
        if content is not None:
            config[kind] = content.sha256
    for kind in ("persona", "edge"):
        runs[kind] = _start_run(
            kind, model_version_id=release.intent_version_id, generation_config=config
        )
    return runs


def release_smoke_tests_run(*, release_id: int) -> dict[str, Any]:
    """Run the smoke tests of a release once; returns what is stored on the release."""
    release = _claim(release_id)
    if release is None:
        row = Release.objects.filter(pk=release_id).values_list("smoke_tests", flat=True).first()
        return dict(row or {})
    state: dict[str, Any] = dict(release.smoke_tests)
    try:
        checks: dict[str, Any] = {}
        classifier = _safety_classifier(release)
        if classifier is None:
            reason = {"status": FAIL, "detail": "the release names no safety model"}
            checks["starter_dialogues"] = checks["emergency_paraphrases"] = reason
        else:
            checks["starter_dialogues"] = starter_dialogues_check(classifier)
            checks["emergency_paraphrases"] = emergency_paraphrases_check(classifier)
        with transaction.atomic():
            runs = frozen_set_runs_start(release)
            state.update(
                status=DONE, checks=checks, runs=runs, finished_at=timezone.now().isoformat()
            )
            Release.objects.filter(pk=release.pk).update(smoke_tests=state)
    except Exception as exc:
        logger.exception("release smoke tests failed release_id=%s", release.pk)
        state.update(
            status=FAILED,
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now().isoformat(),
        )
        Release.objects.filter(pk=release.pk).update(smoke_tests=state)
    logger.info("release smoke tests release_id=%s status=%s", release.pk, state["status"])
    return state
