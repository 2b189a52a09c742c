"""Checks against public data in ``../shared/data`` (never copied into the repository).

Those files are research data with proxy labels (subreddit, tweet label, ESConv strategy),
so they are *checks*, not test sets: they show whether the models behave sensibly on text
nobody on this project wrote. Everything here is skipped when the folder is absent.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# ESConv supporter strategy -> Ari intent (lossy; see datasets/README.md). Also the suggestion
# shown to intent labellers for imported ESConv replies (evaluation.services.imports.esconv);
# "Question" and "Others" are the spellings of some ESConv releases.
ESCONV_TO_INTENT = {
    "Reflection of feelings": "validate",
    "Affirmation and Reassurance": "validate",
    "Restatement or Paraphrasing": "validate",
    "Questions": "probe_story",
    "Question": "probe_story",
    "Providing Suggestions": "suggest_experiment",
    "Information": "other",
    "Self-disclosure": "other",
    "Other": "other",
    "Others": "other",
}


def shared_data_dir() -> Path | None:
    return SHARED_DATA if SHARED_DATA.is_dir() else None


EXTERNAL_DEV = "safety_external_dev.tsv"
EXTERNAL_DEV_MULTITURN = "safety_external_dev_multiturn.jsonl"


def external_dev_rows() -> tuple[list[dict], list[dict]]:
    """The external dev set, for measurement only: ``(single messages, conversations)``.

    Single rows are ``{"text", "history": [], "risk_level", "category"}``; conversations carry
    their earlier user turns in ``history``. Empty lists when ``../shared/data`` is absent.
    """
    root = shared_data_dir()
    single: list[dict] = []
    multi: list[dict] = []
    if root is not None and (root / EXTERNAL_DEV).exists():
        with (root / EXTERNAL_DEV).open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle, delimiter="\t"):
                single.append(
                    {
                        "text": record["text"],
                        "history": [],
                        "risk_level": record["risk_level"],
                        "category": record.get("category") or "",
                    }
                )
    if root is not None and (root / EXTERNAL_DEV_MULTITURN).exists():
        for record in _jsonl(root / EXTERNAL_DEV_MULTITURN):
            multi.append(
                {
                    "text": record["text"],
                    "history": list(record.get("history") or []),
                    "risk_level": record["risk_level"],
                    "category": record.get("category") or "",
                }
            )
    return single, multi


def external_dev_texts() -> list[str]:
    """Every message text of the external dev set (the build refuses them as training rows)."""
    single, multi = external_dev_rows()
    return [r["text"] for r in single] + [t for r in multi for t in (r["text"], *r["history"])]


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# Ari intent -> the four kinds of supporter act ESConv's strategies can be mapped to; the
# evaluation compares kinds, because ESConv has no counterpart for most of Ari's intents.
INTENT_KIND = {
    "validate": "validate",
    "probe_story": "question",
    "probe_root": "question",
    "safety_check": "question",
    "suggest_experiment": "suggest",
    "offer_mindfulness": "suggest",
    "reframe": "other",
    "emergency": "other",
    "close": "other",
    "other": "other",
}
ESCONV_HELDOUT_FOLD = 0  # of ESCONV_FOLDS, by dialogue: never trained on, only measured
ESCONV_FOLDS = 5


def esconv_intent_rows(split: str = "all", limit: int | None = None) -> list[dict]:
    """ESConv supporter replies mapped to intents, each with its dialogue's fold.

    ``split``: ``"train"`` (every fold but the held-out one: what intent training adds),
    ``"heldout"`` (the fold no model trains on: what the benchmark measures) or ``"all"``.
    Rows follow their dialogue: a row whose context holds the previous row's reply continues
    that dialogue, and a whole dialogue goes to one fold (hash of its first seeker turn).
    """
    root = shared_data_dir()
    if root is None or not (root / "esconv_strategy_dev.jsonl").exists():
        return []
    rows = []
    dialogue, previous_reply = -1, None
    first_turn = ""
    for index, record in enumerate(_jsonl(root / "esconv_strategy_dev.jsonl")):
        context = [turn.get("text", "") for turn in record.get("context") or []]
        if previous_reply is None or previous_reply not in context:
            dialogue += 1
            first_turn = context[0] if context else str(index)
        previous_reply = record.get("reply") or ""
        fold = int(hashlib.sha256(first_turn.encode("utf-8")).hexdigest(), 16) % ESCONV_FOLDS
        intent = ESCONV_TO_INTENT.get(record.get("strategy") or "")
        text = previous_reply.strip()
        if not intent or len(text) <= 3:
            continue
        if split == "train" and fold == ESCONV_HELDOUT_FOLD:
            continue
        if split == "heldout" and fold != ESCONV_HELDOUT_FOLD:
            continue
        rows.append(
            {
                "id": f"esconv-{index}",
                "text": text,
                "intent": intent,
                "group": f"esconv-dialogue-{dialogue}",
                "source": "esconv-strategy-dev",
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
    sources["esconv_seeker_turns"] = (
        "esconv_strategy_dev.jsonl",
        lambda r: "seeker",
        lambda r: r["text"],
    )
    for name, (file, label_of, text_of) in sources.items():
        path = root / file
        if not path.exists():
            continue
        records = _jsonl(path)
        if name == "esconv_seeker_turns":  # help-seekers' chat turns: ordinary distress
            records = esconv_seeker_turns(records)
        if name == "counsel_chat_questions":  # one row per question, a few topics
            # Questions excerpted for training are skipped.
            seen: set[int | None] = set(_excerpted_question_ids())
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


def esconv_seeker_turns(records: list[dict]) -> list[dict]:
    """Every distinct seeker turn of over 20 characters in the ESConv rows' contexts, in a fixed
    order: people talking to a peer supporter about ordinary distress (breakups, jobs, the
    pandemic), so nearly none is high risk; the share flagged high is a false-alarm proxy."""
    texts = {
        turn["text"].strip()
        for record in records
        for turn in record["context"]
        if turn["speaker"] == "seeker" and len(turn["text"].strip()) > 20
    }
    return [{"text": text} for text in sorted(texts)]


def _excerpted_question_ids() -> set[int]:
    """Counsel Chat questions whose excerpts are training rows (``group`` counsel-<id>)."""
    from training_jobs.ml.data import DATASET_DIR

    path = DATASET_DIR / "safety" / "counsel-chat-excerpts.jsonl"
    if not path.exists():
        return set()
    return {int(r["group"].split("-", 1)[1]) for r in _jsonl(path) if r.get("group")}


def intent_proxy_check(predictor) -> dict:
    """Intent on the held-out ESConv fold: macro F1 over the mapped kinds of supporter act
    (validate / question / suggest / other), per-kind F1 and the intent-level agreement."""
    from training_jobs.ml.metrics import classification_metrics

    rows = esconv_intent_rows("heldout")
    if not rows:
        return {"skipped": "../shared/data/esconv_strategy_dev.jsonl is not present"}
    predicted = predictor.predict_many([r["text"] for r in rows])
    truth = [INTENT_KIND[r["intent"]] for r in rows]
    kinds = [INTENT_KIND[p.intent] for p in predicted]
    metrics = classification_metrics(truth, kinds, ("validate", "question", "suggest", "other"))
    agreement = sum(p.intent == r["intent"] for r, p in zip(rows, predicted, strict=True))
    return {
        "n": len(rows),
        "mapped_macro_f1": metrics["macro_f1"],
        "mapped_accuracy": metrics["accuracy"],
        "per_kind": metrics["per_class"],
        "questions_labelled_safety_check": round(
            sum(
                p.intent == "safety_check"
                for r, p in zip(rows, predicted, strict=True)
                if r["intent"] == "probe_story"
            )
            / max(1, sum(r["intent"] == "probe_story" for r in rows)),
            4,
        ),
        "mapped_agreement": round(agreement / len(rows), 4),
    }


def external_dev_report(predictor) -> dict:
    """The served decision on the external dev set (measurement only; never tuned on).

    Single messages: high -> emergency (recall), high -> emergency or safety question, clearly
    safe (labelled none) -> emergency and -> any safety question, and the level confusion.
    Conversations: high recall with the history, and benign conversations flagged high.
    """
    single, multi = external_dev_rows()
    if not single and not multi:
        return {"skipped": "../shared/data/safety_external_dev* is not present"}
    out: dict = {}
    if single:
        served = predictor.assess_many([(r["text"], ()) for r in single])
        out["single"] = _level_rates([r["risk_level"] for r in single], [a.level for a in served])
        out["single"]["by_category_high_recall"] = _high_recall_by(
            single, served, key=lambda r: r["category"] or "none"
        )
    if multi:
        served = predictor.assess_many([(r["text"], tuple(r["history"])) for r in multi])
        out["multiturn"] = _level_rates([r["risk_level"] for r in multi], [a.level for a in served])
    return out


def _level_rates(truth: list[str], levels: list[str]) -> dict:
    from training_jobs.ml.labels import RISK_LEVELS

    def rate(gold: tuple[str, ...], predicted: tuple[str, ...]) -> float | None:
        idx = [i for i, t in enumerate(truth) if t in gold]
        return round(sum(levels[i] in predicted for i in idx) / len(idx), 4) if idx else None

    return {
        "n": len(truth),
        "high_n": sum(t == "high" for t in truth),
        "safe_n": sum(t == "none" for t in truth),
        "high_to_emergency": rate(("high",), ("high",)),
        "high_to_emergency_or_question": rate(("high",), ("high", "medium")),
        "safe_to_emergency": rate(("none",), ("high",)),
        "safe_to_question": rate(("none",), ("high", "medium")),
        "not_high_to_emergency": rate(("none", "low", "medium"), ("high",)),
        "medium_to_question_or_more": rate(("medium",), ("high", "medium")),
        "confusion": {
            gold: {
                p: sum(t == gold and lv == p for t, lv in zip(truth, levels, strict=True))
                for p in RISK_LEVELS
            }
            for gold in RISK_LEVELS
        },
    }


def _high_recall_by(rows: list[dict], served, *, key) -> dict:
    per: dict[str, list[int]] = {}
    for row, a in zip(rows, served, strict=True):
        if row["risk_level"] == "high":
            bucket = per.setdefault(key(row), [0, 0])
            bucket[0] += a.level == "high"
            bucket[1] += 1
    return {k: {"caught": c, "n": n} for k, (c, n) in sorted(per.items())}


def sdcnl_report(predictor, *, limit: int | None = None) -> dict:
    """Real Reddit posts, r/SuicideWatch vs r/depression (noisy subreddit labels).

    AUC of the served high-risk score, recall of r/SuicideWatch at fixed shares of
    r/depression posts flagged, and the share of each subreddit the served decision flags.
    """
    root = shared_data_dir()
    if root is None or not (root / "sdcnl_reddit.jsonl").exists():
        return {"skipped": "../shared/data/sdcnl_reddit.jsonl is not present"}
    records = _jsonl(root / "sdcnl_reddit.jsonl")[:limit]
    served = predictor.assess_many(
        [(f"{r.get('title', '')}. {r.get('text', '')}"[:4000], ()) for r in records]
    )
    positive = [
        a.score for r, a in zip(records, served, strict=True) if r["label"] == "suicidewatch"
    ]
    negative = [
        a.score for r, a in zip(records, served, strict=True) if r["label"] != "suicidewatch"
    ]
    out: dict[str, float] = {
        "n": len(records),
        "suicidewatch_n": len(positive),
        "depression_n": len(negative),
    }
    if positive and negative:
        out["auc"] = round(_auc(positive, negative), 4)
        ordered = sorted(negative, reverse=True)
        for share in (0.1, 0.2, 0.5):
            cut = ordered[max(0, int(share * len(ordered)) - 1)]
            out[f"recall_at_{int(share * 100)}pct_depression_flagged"] = round(
                sum(s > cut for s in positive) / len(positive), 4
            )
    for label in ("suicidewatch", "depression"):
        levels = [a.level for r, a in zip(records, served, strict=True) if r["label"] == label]
        if levels:
            out[f"{label}_served_high_rate"] = round(levels.count("high") / len(levels), 4)
            out[f"{label}_served_question_rate"] = round(
                sum(lv in ("high", "medium") for lv in levels) / len(levels), 4
            )
    return out


def _auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(positive + negative)
    rank_sum = float(sum(ranks[: len(positive)]))
    n_pos, n_neg = len(positive), len(negative)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# Answers people give a coach (reframes, body sensations after a practice, small plans,
# goodbyes), none or low risk, written by a writer who saw no training row; never trained on.
COACH_ANSWERS_PROBE = (
    Path(__file__).resolve().parents[2]
    / "ari_review"
    / "bench"
    / "probes"
    / "coach-answers-p1.jsonl"
)


def coach_answers_report(predictor, path: Path = COACH_ANSWERS_PROBE) -> dict:
    """The share of ordinary answers to a coach that the served decision sends to the emergency
    flow (high) or gives a safety question (medium or high), alone and read with their history."""
    rows = _jsonl(path)
    served = predictor.assess_many([(r["text"], tuple(r["history"])) for r in rows])
    out: dict = {"n": len(rows)}
    for name, keep in (
        ("alone", lambda r: not r["history"]),
        ("with_history", lambda r: r["history"]),
    ):
        levels = [a.level for r, a in zip(rows, served, strict=True) if keep(r)]
        out[name] = {
            "n": len(levels),
            "high_rate": round(sum(lv == "high" for lv in levels) / max(1, len(levels)), 4),
            "medium_or_high_rate": round(
                sum(lv in ("medium", "high") for lv in levels) / max(1, len(levels)), 4
            ),
        }
    out["high"] = sum(a.level == "high" for a in served)
    return out
