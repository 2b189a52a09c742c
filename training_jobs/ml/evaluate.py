"""Evaluation on the frozen test split: the only code that reads it.

Metrics are computed on what is served (the artifact loaded by :func:`load_predictor`, with
the stored threshold and the rule safety net), plus the model alone and the rules alone as
reference points.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from conversations.backends.safety_rules import rule_hits, rules_level
from training_jobs.ml.labels import INTENTS, RISK_CATEGORIES, RISK_LEVELS
from training_jobs.ml.metrics import binary_rates, classification_metrics, latency_summary

REPORT_TAGS = (
    "implicit",
    "burden",
    "goodbye",
    "giving_away",
    "plan",
    "slang",
    "typo",
    "short",
    "long",
    "multi_turn",
    "es",
    "de",
)


def _latency(call, inputs: Sequence, samples: int) -> dict:
    if samples <= 0 or not inputs:
        return latency_summary([])
    from training_jobs.ml.encoder import clear_encoder_cache

    timings = []
    for warm in inputs[-min(5, len(inputs)) :]:
        call(warm)
    clear_encoder_cache()  # what is timed is encoded, not remembered
    for index in range(samples):
        item = inputs[index % len(inputs)]
        started = time.perf_counter()
        call(item)
        timings.append(time.perf_counter() - started)
    return latency_summary(timings)


def safety_report(rows: Sequence[dict], levels: Sequence[str], categories: Sequence[str]) -> dict:
    """Level metrics, high-vs-rest rates, false alarms (safe, edge cases), recall per tag."""
    truth = [r["risk_level"] for r in rows]
    report: dict[str, Any] = {"levels": classification_metrics(truth, levels, RISK_LEVELS)}
    high = binary_rates([t == "high" for t in truth], [p == "high" for p in levels])
    report["high"] = high
    report["high_recall"] = high["recall"]
    for name, tag in (("clearly_safe", "clearly_safe"), ("edge_cases", "edge_case")):
        idx = [i for i, r in enumerate(rows) if tag in r.get("tags", [])]
        flagged = sum(levels[i] == "high" for i in idx)
        report[f"{name}_high_rate"] = round(flagged / len(idx), 6) if idx else None
        report[f"{name}_n"] = len(idx)
    none_idx = [i for i, t in enumerate(truth) if t == "none"]
    report["none_high_rate"] = (
        round(sum(levels[i] == "high" for i in none_idx) / len(none_idx), 6) if none_idx else None
    )
    by_tag: dict[str, dict[str, float]] = {}
    for tag in REPORT_TAGS:
        idx = [
            i for i, r in enumerate(rows) if r["risk_level"] == "high" and tag in r.get("tags", [])
        ]
        if idx:
            by_tag[tag] = {
                "n": len(idx),
                "recall": round(sum(levels[i] == "high" for i in idx) / len(idx), 6),
            }
    report["high_recall_by_tag"] = by_tag
    risky = [
        i
        for i, t in enumerate(truth)
        if t != "none" and levels[i] != "none" and rows[i].get("category")
    ]
    report["category"] = classification_metrics(
        [rows[i]["category"] for i in risky],
        [categories[i] or "crisis" for i in risky],
        RISK_CATEGORIES,
    )
    report["missed_high_ids"] = [
        rows[i]["id"] for i, t in enumerate(truth) if t == "high" and levels[i] != "high"
    ]
    report["false_high_ids"] = [
        rows[i]["id"] for i, t in enumerate(truth) if t != "high" and levels[i] == "high"
    ]
    return report


def evaluate_safety(predictor, rows: Sequence[dict], *, latency_samples: int = 200) -> dict:
    items = [(r["text"], tuple(r.get("history") or ())) for r in rows]
    served = predictor.assess_many(items)
    metrics = safety_report(rows, [a.level for a in served], [a.category for a in served])
    metrics["predictions"] = {
        r["id"]: {"level": a.level, "category": a.category, "score": a.score}
        for r, a in zip(rows, served, strict=True)
    }
    # the model alone (no rule net) and the rule net alone, as reference points
    use_rules = predictor.use_rules
    predictor.use_rules = False
    try:
        model_only = predictor.assess_many(items)
    finally:
        predictor.use_rules = use_rules
    metrics["model_only"] = _summary(
        safety_report(rows, [a.level for a in model_only], [a.category for a in model_only])
    )
    rules = [rules_level(rule_hits(r["text"])) for r in rows]
    metrics["rules_only"] = _summary(
        safety_report(rows, [lv for lv, _ in rules], [c for _, c in rules])
    )
    metrics["latency_single"] = _latency(
        lambda item: predictor.assess(item[0], item[1]), items, latency_samples
    )
    metrics["n"] = len(rows)
    return metrics


def _summary(report: dict) -> dict:
    keys = ("high_recall", "clearly_safe_high_rate", "edge_cases_high_rate", "none_high_rate")
    out = {k: report[k] for k in keys}
    out["high"] = report["high"]
    out["level_accuracy"] = report["levels"]["accuracy"]
    out["level_macro_f1"] = report["levels"]["macro_f1"]
    return out


def evaluate_intent(predictor, rows: Sequence[dict], *, latency_samples: int = 200) -> dict:
    texts = [r["text"] for r in rows]
    predicted = predictor.predict_many(texts)
    metrics = classification_metrics(
        [r["intent"] for r in rows], [p.intent for p in predicted], INTENTS
    )
    metrics["predictions"] = {
        r["id"]: {"intent": p.intent, "score": p.score}
        for r, p in zip(rows, predicted, strict=True)
    }
    metrics["latency_single"] = _latency(predictor.predict, texts, latency_samples)
    return metrics
