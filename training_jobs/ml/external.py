"""Checks against public data in ``../shared/data`` (never copied into the repository).

Those files are research data with proxy labels (subreddit, tweet label, ESConv strategy),
so they are *checks*, not test sets: they show whether the models behave sensibly on text
nobody on this project wrote. Everything here is skipped when the folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# ESConv supporter strategy -> Ari intent (lossy; see datasets/README.md).
ESCONV_TO_INTENT = {
    "Reflection of feelings": "validate",
    "Affirmation and Reassurance": "validate",
    "Restatement or Paraphrasing": "validate",
    "Questions": "probe_story",
    "Providing Suggestions": "suggest_experiment",
    "Information": "other",
    "Self-disclosure": "other",
    "Other": "other",
}


def shared_data_dir() -> Path | None:
    return SHARED_DATA if SHARED_DATA.is_dir() else None


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def esconv_intent_rows(limit: int | None = None) -> list[dict]:
    """ESConv supporter replies mapped to intents (for bootstrapping or checking)."""
    root = shared_data_dir()
    if root is None or not (root / "esconv_strategy_dev.jsonl").exists():
        return []
    rows = []
    for index, record in enumerate(_jsonl(root / "esconv_strategy_dev.jsonl")):
        intent = ESCONV_TO_INTENT.get(record.get("strategy"))
        text = (record.get("reply") or "").strip()
        if intent and len(text) > 3:
            rows.append(
                {
                    "id": f"esconv-{index}",
                    "text": text,
                    "intent": intent,
                    "group": f"esconv-{index}",
                }
            )
    return rows[:limit] if limit else rows


def safety_proxy_checks(predictor, *, limit: int = 600) -> dict:
    """Share of texts flagged high per proxy label, per public file (skipped when absent)."""
    root = shared_data_dir()
    if root is None:
        return {"skipped": "../shared/data is not present"}
    out: dict = {}
    sources = {
        "twitter_suicidal_ideation": (
            "twitter_suicidal_ideation.jsonl",
            lambda r: r.get("label"),
            lambda r: r["text"],
        ),
        "sdcnl_reddit": (
            "sdcnl_reddit.jsonl",
            lambda r: r.get("label"),
            lambda r: f"{r.get('title', '')}. {r.get('text', '')}",
        ),
        "counsel_chat_questions": (
            "counsel_chat.jsonl",
            lambda r: r.get("topic"),
            lambda r: f"{r.get('title', '')}. {r.get('question', '')}",
        ),
    }
    for name, (file, label_of, text_of) in sources.items():
        path = root / file
        if not path.exists():
            continue
        records = _jsonl(path)
        if name == "counsel_chat_questions":  # one row per question, a few topics
            from training_jobs.datasets.counsel_chat_excerpts import EXCERPTS

            seen = {qid for qid, *_ in EXCERPTS}  # questions excerpted for training are skipped
            unique = []
            for r in records:
                if r.get("question_id") not in seen and r.get("topic") in (
                    "self-harm",
                    "depression",
                    "relationships",
                    "parenting",
                    "anxiety",
                ):
                    seen.add(r.get("question_id"))
                    unique.append(r)
            records = unique
        records = records[:limit]
        results = predictor.assess_many([(text_of(r)[:4000], ()) for r in records])
        per_label: dict[str, dict] = {}
        for record, result in zip(records, results, strict=True):
            bucket = per_label.setdefault(
                str(label_of(record)), {"n": 0, "high": 0, "medium_or_high": 0}
            )
            bucket["n"] += 1
            bucket["high"] += result.level == "high"
            bucket["medium_or_high"] += result.level in ("medium", "high")
        for bucket in per_label.values():
            bucket["high_rate"] = round(bucket["high"] / bucket["n"], 4)
            bucket["medium_or_high_rate"] = round(bucket["medium_or_high"] / bucket["n"], 4)
        out[name] = per_label
    return out


def intent_proxy_check(predictor, *, limit: int = 1500) -> dict:
    rows = esconv_intent_rows(limit)
    if not rows:
        return {"skipped": "../shared/data/esconv_strategy_dev.jsonl is not present"}
    predicted = predictor.predict_many([r["text"] for r in rows])
    per: dict[str, dict] = {}
    for row, p in zip(rows, predicted, strict=True):
        bucket = per.setdefault(row["intent"], {"n": 0, "agree": 0})
        bucket["n"] += 1
        bucket["agree"] += p.intent == row["intent"]
    for bucket in per.values():
        bucket["agreement"] = round(bucket["agree"] / bucket["n"], 4)
    total = sum(b["agree"] for b in per.values()) / len(rows)
    return {"mapped_agreement": round(total, 4), "per_mapped_intent": per, "n": len(rows)}
