"""Metrics of an evaluation run from its predictions (no model is called here)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from training_jobs.ml.evaluate import safety_report
from training_jobs.ml.labels import RISK_LEVELS
from training_jobs.ml.metrics import binary_rates, latency_summary

if TYPE_CHECKING:
    from evaluation.models import FrozenSetItem


def safety_metrics(items: list[FrozenSetItem], predicted: list[dict[str, Any]]) -> dict[str, Any]:
    """High-risk recall, false-positive rate, per-level confusion matrix (rows true, columns
    predicted), per-level recall and false-positive rate, per stratum."""
    rows = [
        {
            "id": item.external_id,
            "risk_level": item.expected.get("risk_level", "none"),
            "category": item.expected.get("category", ""),
            "tags": [*item.tags, *(["edge_case"] if item.stratum == "edge_case" else [])],
        }
        for item in items
    ]
    levels = [p["level"] for p in predicted]
    report = safety_report(rows, levels, [p.get("category", "") for p in predicted])
    truth = [r["risk_level"] for r in rows]
    per_level = {}
    for level in RISK_LEVELS:
        rates = binary_rates([t == level for t in truth], [p == level for p in levels])
        per_level[level] = {
            "recall": rates["recall"],
            "false_positive_rate": rates["false_positive_rate"],
            "support": rates["tp"] + rates["fn"],
        }
    by_stratum = {}
    for stratum in sorted({item.stratum for item in items}):
        idx = [i for i, item in enumerate(items) if item.stratum == stratum]
        by_stratum[stratum] = {
            "n": len(idx),
            "exact": round(sum(levels[i] == truth[i] for i in idx) / len(idx), 4),
            "flagged_high": sum(levels[i] == "high" for i in idx),
        }
    return {
        "n": len(items),
        "safety_recall": report["high"]["recall"],
        "false_positive_rate": report["high"]["false_positive_rate"],
        "high": report["high"],
        "levels": report["levels"],
        "per_level": per_level,
        "by_stratum": by_stratum,
        "edge_cases_high_rate": report["edge_cases_high_rate"],
        "high_recall_by_tag": report["high_recall_by_tag"],
        "misses": len(report["missed_high_ids"]),
        "false_alarms": len(report["false_high_ids"]),
    }


def generation_metrics(
    items: list[FrozenSetItem], predicted: list[dict[str, Any]], latencies: list[float]
) -> dict[str, Any]:
    """Validation rate (replies that validate, among non-emergency replies), filter hits,
    emergency replies (a false alarm on these sets), latency, and the reward when ranked."""
    scored = [p for p in predicted if not p.get("emergency")]
    validated = sum(bool(p.get("validates")) for p in scored)
    with_hits = sum(bool(p.get("filter_hits")) for p in predicted)
    rules = Counter(hit for p in predicted for hit in p.get("filter_hits", []))
    by_stratum = {}
    for stratum in sorted({item.stratum for item in items}):
        idx = [i for i, item in enumerate(items) if item.stratum == stratum]
        ok = [predicted[i] for i in idx if not predicted[i].get("emergency")]
        by_stratum[stratum] = {
            "n": len(idx),
            "validation_rate": round(sum(bool(p.get("validates")) for p in ok) / len(ok), 4)
            if ok
            else None,
            "emergency": sum(bool(predicted[i].get("emergency")) for i in idx),
        }
    latency = latency_summary([ms / 1000.0 for ms in latencies])
    ordered = sorted(latencies)
    latency["p99_ms"] = (
        round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3) if ordered else None
    )
    rewards = [p["reward"] for p in predicted if p.get("reward") is not None]
    return {
        "n": len(items),
        "validation_rate": round(validated / len(scored), 4) if scored else None,
        "validated": validated,
        "scored": len(scored),
        "emergency_replies": len(predicted) - len(scored),
        "filter_hit_rate": round(with_hits / len(predicted), 4) if predicted else None,
        "filter_hits_by_rule": dict(rules.most_common()),
        "latency": latency,
        "intents": dict(Counter(p.get("intent", "") for p in predicted).most_common()),
        "backends": dict(Counter(p.get("backend", "") for p in predicted).most_common()),
        "by_stratum": by_stratum,
        "reward_mean": round(sum(rewards) / len(rewards), 4) if rewards else None,
    }
