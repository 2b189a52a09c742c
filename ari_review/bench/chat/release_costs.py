"""What releases add to a chat turn (issue #17's figures), self-contained so it can move with the
other benchmark code:

- resolving the release and arm (``conversations.rollout.arm_assignment_for``, the TTL cache
  warm) on this database's releases, with the arm's rule set and signal file (compiled, cached
  by sha256), and the arm hash alone at a 50% canary (the work a turn does while a candidate is
  in flight): target <= 0.5 ms per turn;
- a safety canary: the screen stage with the candidate screening beside the incumbent (the
  active safety version standing in as the candidate, so both do the same work) against the
  screen stage alone: target <= 2 x one classifier's time; and the same for a candidate that
  changes only the risk-signal file (the shipped file plus a comment, stored like a release's).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

TEXTS = (
    "Work has been a lot lately.",
    "I feel like nobody listens to me.",
    "I had a good walk today.",
    "I don't know if I can keep going like this.",
)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples), 4)


def release_arm_cost(session: Any, calls: int) -> dict[str, Any]:
    from conversations.rollout import arm_assignment_for, arm_for, assignment_key
    from conversations.services.release_contents import filter_rule_set_for, risk_signals_for

    def resolve_once() -> None:  # what a turn resolves before it screens
        arm = arm_assignment_for(session)
        filter_rule_set_for(arm.generation.filter_rules if arm.generation else "")
        risk_signals_for(arm.risk_signals)

    resolve_once()  # fills the caches
    resolve = []
    for _ in range(calls):
        start = time.perf_counter()
        resolve_once()
        resolve.append((time.perf_counter() - start) * 1000.0)
    key = assignment_key(session)
    hashing = []
    for i in range(calls):
        start = time.perf_counter()
        arm_for(key, i + 1, 50)
        hashing.append((time.perf_counter() - start) * 1000.0)
    return {
        "calls": calls,
        "resolve_p50_ms": _median_ms(resolve),
        "hash_p50_ms": _median_ms(hashing),
    }


def safety_canary_cost(calls: int) -> dict[str, Any]:
    from django.apps import apps

    from conversations.backends.classifiers import get_safety_classifier
    from conversations.services.turn.screen import screen
    from conversations.services.turn.state import Turn

    # The registry sits on a floor above: reached by name, never imported.
    versions = apps.get_model("training_jobs", "ModelVersion").objects
    active = versions.filter(kind="safety", is_active=True).first()
    classifier = get_safety_classifier()
    if active is None:
        return {"skipped": "no active safety model version"}
    from conversations.services.release_contents import (
        RISK_SIGNALS,
        release_content_store,
        shipped_text,
    )

    signals = release_content_store(
        kind=RISK_SIGNALS, text=shipped_text(RISK_SIGNALS) + "# bench: a candidate's copy\n"
    ).sha256
    single: list[float] = []
    canary: list[float] = []
    signal_canary: list[float] = []
    for i in range(calls):
        text = TEXTS[i % len(TEXTS)]
        for samples, candidate, candidate_signals in (
            (single, None, None),
            (canary, active.pk, None),
            (signal_canary, None, signals),
        ):
            start = time.perf_counter()
            screen(
                text,
                history=[],
                classifier=classifier,
                turn=Turn(),
                candidate_version_id=candidate,
                candidate_served=True,
                candidate_signals=candidate_signals,
            )
            samples.append((time.perf_counter() - start) * 1000.0)
    one, both, signal = _median_ms(single), _median_ms(canary), _median_ms(signal_canary)
    return {
        "calls": calls,
        "screen_single_p50_ms": one,
        "screen_canary_p50_ms": both,
        "ratio": round(both / one, 3) if one else None,
        "screen_signal_canary_p50_ms": signal,
        "signal_ratio": round(signal / one, 3) if one else None,
    }
