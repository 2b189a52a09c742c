"""Train a classifier from the shipped data (+ database labels), tune, save, and evaluate.

``train_and_evaluate`` is the one entry point used by the ``train_classifier`` command, the
Celery task (through ``training_jobs.services``), the test fixtures and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from training_jobs.ml import data as datasets
from training_jobs.ml.artifact import write_manifest
from training_jobs.ml.evaluate import evaluate_intent, evaluate_safety
from training_jobs.ml.external import esconv_intent_rows
from training_jobs.ml.labels import BACKENDS, HEADS, KINDS
from training_jobs.ml.minilm import MiniLMSettings
from training_jobs.ml.predictors import SafetyPredictor, load_predictor
from training_jobs.ml.text import training_text
from training_jobs.ml.thresholds import tune_threshold_for_recall

Progress = Callable[[str, int], None]
LINEAR_C_DEFAULT = {"safety": 16.0, "intent": 8.0}
CV_BACKENDS = ("linear", "hybrid")  # cheap enough to refit once per fold
LSO_SCORES_FILE = "lso_scores.jsonl"  # every training row's held-out scores, beside the artifact


@dataclass
class TrainSettings:
    gate_high_recall: float = 0.98  # activation gate, on the frozen test split
    gate_intent_accuracy: float = 0.85
    # Not a gate (the issue gates activation on recall alone), but reported with the gate: a
    # version that flags more clearly safe messages than this sends everyday talk to emergency.
    target_clearly_safe_high_rate: float = 0.05
    validation_recall: float = 0.98  # high threshold: recall of the emergency flow, held out
    # "possible risk" threshold: share of held-out high rows that get at least a safety question
    possible_recall: float = 0.995
    val_fraction: float = 0.2
    seed: int = 13
    refit_on_all: bool = True  # linear without CV: refit on train+validation after tuning
    cv_folds: int = 5  # linear/hybrid safety: thresholds on leave-source-out scores
    latency_samples: int = 200
    # Regularisation of the linear backend; None picks the per-kind default below (chosen on
    # grouped validation folds of the shipped training data, never on the test split).
    linear_C: float | None = None
    minilm: MiniLMSettings = field(default_factory=MiniLMSettings)
    # intent: add the ESConv training folds when ../shared/data is present and the shipped data
    # are used. On since the six intent writers (2026-12-07): own split 0.91, held-out ESConv
    # fold 0.616 macro F1 (docs/safety-classifier-status.md, "Intent").
    esconv_intent: bool = True
    # hybrid: weight of the n-gram model in the blend (chosen on leave-source-out scores)
    blend: float = 0.5
    blend_grid: tuple[float, ...] = (0.2, 0.35, 0.5, 0.65, 0.8)
    # Serve a threshold pair of its own for the message read with its history, chosen on the
    # conversations held out (``choose_thresholds_with_context``). Off: on the external dev
    # conversations it cost one high conversation its emergency reply (docs).
    context_thresholds: bool = False


@dataclass
class TrainOutcome:
    kind: str
    backend: str
    artifact_dir: Path
    manifest: dict
    metrics: dict
    thresholds: dict
    train_data_hash: str
    test_data_hash: str
    train_rows: int
    excluded_rows: int
    training_seconds: float
    gate_passed: bool
    gate_reason: str


def _targets(kind: str, rows: list[dict]) -> dict[str, list[str | None]]:
    if kind == "intent":
        return {"intent": [r["intent"] for r in rows]}
    return {
        "level": [r["risk_level"] for r in rows],
        "category": [
            r.get("category") or None if r["risk_level"] != "none" else None for r in rows
        ],
    }


def choose_thresholds(
    truth: list[bool], scores: list[float], settings: TrainSettings, *, method: str
) -> dict:
    """Both thresholds of the three-way policy, from held-out scores of the served decision."""
    high = tune_threshold_for_recall(truth, scores, target_recall=settings.validation_recall)
    possible = tune_threshold_for_recall(truth, scores, target_recall=settings.possible_recall)
    return {
        "high": high.threshold,
        "possible": min(possible.threshold, high.threshold),
        "validation": high.as_dict(),
        "validation_possible": possible.as_dict(),
        "validation_rows": len(scores),
        "validation_method": method,
        "tuned_on": "served decision: model score >= threshold, or the rule net says high",
    }


def tune_on_source_folds(
    rows: list[dict], backend: str, settings: TrainSettings, report: Progress
) -> tuple[dict, float, list[dict]]:
    """Leave-source-out scores of every row; the blend (hybrid) and thresholds chosen on them.

    The blend weight is the one whose high threshold (at the validation recall) flags the
    fewest non-high rows; ties go to the weight nearest 0.5. Returns the thresholds, the blend
    and, per row, its held-out scores (what ``lso_scores.jsonl`` keeps beside the artifact).
    """
    folds = datasets.source_folds(rows, folds=settings.cv_folds, seed=settings.seed)
    n_folds = max(folds) + 1
    blends = settings.blend_grid if backend == "hybrid" else (1.0,)
    truth: list[bool] = []
    parts_by_blend: dict[float, list[dict]] = {b: [] for b in blends}
    for fold in range(n_folds):
        report("leave-source-out scores", int(8 + 50 * fold / n_folds))
        fit_rows = [r for r, f in zip(rows, folds, strict=True) if f != fold]
        held = [r for r, f in zip(rows, folds, strict=True) if f == fold]
        fold_model = fit_model("safety", backend, fit_rows, settings)
        truth += [r["risk_level"] == "high" for r in held]
        parts: dict = {}  # per text: both models' probabilities, shared by every weight
        for blend in blends:
            parts_by_blend[blend] += _segment_high_scores(
                _Blended.of(fold_model, blend, parts), held
            )
    choices = {}
    for blend in blends:
        t = tune_threshold_for_recall(
            truth,
            [served_score(p) for p in parts_by_blend[blend]],
            target_recall=settings.validation_recall,
        )
        choices[blend] = (t.false_positive_rate, abs(blend - 0.5))
    blend = min(blends, key=lambda b: choices[b])
    held_order = [
        r for fold in range(n_folds) for r, f in zip(rows, folds, strict=True) if f == fold
    ]
    sources = len({datasets.row_source(r) for r in rows})
    method = f"leave-source-out scores ({n_folds} folds, {sources} sources)"
    held_parts = parts_by_blend[blend]
    with_context = choose_thresholds_with_context(held_order, held_parts, settings, method=method)
    if settings.context_thresholds:
        thresholds = with_context
    else:
        # One pair for every segment, chosen on the served score of all rows; the pair for
        # conversations is reported beside it, not served (docs/safety-classifier-status.md).
        thresholds = choose_thresholds(
            truth, [served_score(p) for p in held_parts], settings, method=method
        )
        thresholds["context_candidate"] = with_context["context"]
    thresholds["leave_source_out"] = leave_source_out_report(held_order, held_parts, thresholds)
    thresholds["blend"] = blend
    thresholds["blend_false_alarms"] = {str(b): round(choices[b][0], 6) for b in blends}
    thresholds["folds"] = n_folds
    records = [
        {
            "fingerprint": datasets.row_fingerprint(r)[:16],
            "source": datasets.row_source(r),
            "risk_level": r["risk_level"],
            "category": r.get("category") or "",
            "history": len(r.get("history") or ()),
            **{k: (round(v, 6) if v is not None else None) for k, v in p.items()},
        }
        for r, p in zip(held_order, held_parts, strict=True)
    ]
    return thresholds, blend, records


def served_score(parts: dict) -> float:
    """The single score of a message scored with one threshold for all its segments."""
    return max(parts["message"], parts["context"] or 0.0)


def choose_thresholds_with_context(
    rows: list[dict], parts: list[dict], settings: TrainSettings, *, method: str
) -> dict:
    """The three-way policy's thresholds from held-out scores, conversations apart.

    ``high`` and ``possible`` are chosen on single messages (rows without history) by their own
    score. The message read with the user's earlier turns gets its own pair, chosen on the rows
    with history: the highest thresholds at which the served decision (message over its
    threshold, or the message with its history over the context one) keeps the same recalls
    there. Without rows with history, the context pair is the single-message pair.
    """
    single = [(r, p) for r, p in zip(rows, parts, strict=True) if not r.get("history")]
    thresholds = choose_thresholds(
        [r["risk_level"] == "high" for r, _ in single],
        [p["message"] for _, p in single],
        settings,
        method=method + ", single messages",
    )
    multi = [(r, p) for r, p in zip(rows, parts, strict=True) if r.get("history")]
    truth = [r["risk_level"] == "high" for r, _ in multi]
    context: dict = {"rows": len(multi)}
    for name, base, recall in (
        ("high", thresholds["high"], settings.validation_recall),
        ("possible", thresholds["possible"], settings.possible_recall),
    ):
        if not any(truth):
            context[name] = base
            continue
        # A conversation already caught by the message itself scores 1: any threshold keeps it.
        scores = [1.0 if p["message"] >= base else (p["context"] or 0.0) for _, p in multi]
        choice = tune_threshold_for_recall(truth, scores, target_recall=recall)
        context[name] = choice.threshold
        context[f"validation_{name}"] = choice.as_dict()
    context["possible"] = min(context["possible"], context["high"])
    thresholds["context"] = context
    return thresholds


def leave_source_out_report(rows: list[dict], parts: list[dict], thresholds: dict) -> dict:
    """Rates of the served decision at the chosen thresholds on leave-source-out scores (each
    row scored by a model that never saw its source): per gold level and per source, the share
    of rows flagged high (emergency) and in the possible-risk band or above (at least a safety
    question); conversations (rows with history) also apart."""
    context = thresholds.get("context") or {}

    def flagged(p: dict, name: str) -> bool:
        return p["message"] >= thresholds[name] or (
            p["context"] is not None and p["context"] >= context.get(name, thresholds[name])
        )

    def rates(members: list[dict]) -> dict:
        n = len(members)
        high = sum(flagged(p, "high") for p in members)
        band = sum(flagged(p, "possible") for p in members)
        return {"n": n, "high_rate": round(high / n, 4), "band_rate": round(band / n, 4)}

    by_level: dict[str, list] = {}
    by_level_multi: dict[str, list] = {}
    by_source: dict[str, dict[str, list]] = {}
    for row, p in zip(rows, parts, strict=True):
        by_level.setdefault(row["risk_level"], []).append(p)
        if row.get("history"):
            by_level_multi.setdefault(row["risk_level"], []).append(p)
        gold = "high" if row["risk_level"] == "high" else "other"
        by_source.setdefault(datasets.row_source(row), {}).setdefault(gold, []).append(p)
    return {
        "by_level": {level: rates(m) for level, m in sorted(by_level.items())},
        "conversations_by_level": {level: rates(m) for level, m in sorted(by_level_multi.items())},
        "by_source": {
            source: {gold: rates(m) for gold, m in sorted(golds.items())}
            for source, golds in sorted(by_source.items())
        },
    }


class _Blended:
    """A hybrid model seen with another blend weight (tuning); other models as they are.

    Both parts are computed once per text, whatever the number of weights tried."""

    def __init__(self, model, blend: float, parts: dict):
        self.model, self.blend, self.heads, self.parts = model, blend, model.heads, parts

    @classmethod
    def of(cls, model, blend: float, parts: dict):
        return cls(model, blend, parts) if hasattr(model, "predict_parts") else model

    def predict_proba(self, texts):
        import numpy as np

        from training_jobs.ml.hybrid import blend_parts

        missing = [t for t in dict.fromkeys(texts) if t not in self.parts]
        if missing:
            linear, embedding = self.model.predict_parts(missing)
            for i, text in enumerate(missing):
                self.parts[text] = (
                    {h: linear[h][i] for h in linear},
                    {h: embedding[h][i] for h in embedding},
                )
        stacked = [
            {h: np.stack([self.parts[t][part][h] for t in texts]) for h in self.heads}
            for part in (0, 1)
        ]
        return blend_parts(stacked[0], stacked[1], self.blend)


def _segment_high_scores(model, rows: list[dict]) -> list[dict]:
    """Per row, the scores the served decision compares with the thresholds: P(high) of the
    message on its own and read with its history (``SafetyPredictor.high_scores``), except that
    a row the rule safety net already raises to high scores 1.0: the served classifier flags it
    whatever the threshold, so it must not drag the threshold down (nor count as avoidable
    false alarm).
    """
    from conversations.backends.safety_rules import rule_hits, rules_level

    tuner = SafetyPredictor(model, threshold=2.0, version="tuning", use_rules=False)
    scored = tuner.high_scores([(r["text"], r.get("history") or ()) for r in rows])
    for row, parts in zip(rows, scored, strict=True):
        if rules_level(rule_hits(row["text"]))[0] == "high":
            parts["message"] = 1.0
    return scored


def make_model(kind: str, backend: str, settings: TrainSettings):
    C = settings.linear_C if settings.linear_C is not None else LINEAR_C_DEFAULT[kind]
    if backend == "linear":
        from training_jobs.ml.linear import LinearTextModel

        return LinearTextModel(HEADS[kind], C=C, seed=settings.seed)
    if backend == "hybrid":
        from training_jobs.ml.hybrid import HybridTextModel

        return HybridTextModel(HEADS[kind], C=C, blend=settings.blend, seed=settings.seed)
    if backend == "minilm":
        from training_jobs.ml.minilm import MiniLMTextModel

        return MiniLMTextModel(HEADS[kind], settings.minilm)
    raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")


def fit_model(kind: str, backend: str, rows: list[dict], settings: TrainSettings, progress=None):
    """Fit a fresh model on ``rows`` (the single place where rows reach a model)."""
    model = make_model(kind, backend, settings)
    texts = [training_text(r) if kind == "safety" else r["text"] for r in rows]
    model.fit(texts, _targets(kind, rows), progress=progress)
    return model


def safety_gate(metrics: dict, settings: TrainSettings) -> tuple[bool, str]:
    """Whether a safety version may be activated (high-risk recall on the frozen test split), and
    why; a false-alarm rate over its target is reported with the reason, not gated on."""
    recall = metrics["high_recall"] or 0.0
    passed = recall >= settings.gate_high_recall
    reason = (
        f"high-risk recall {recall:.3f} on the frozen test split is at least "
        f"{settings.gate_high_recall:.2f}"
        if passed
        else f"high-risk recall {recall:.3f} on the frozen test split is below the required "
        f"{settings.gate_high_recall:.2f} (missed {len(metrics['missed_high_ids'])} of "
        f"{metrics['high']['tp'] + metrics['high']['fn']} high-risk rows)"
    )
    false_alarms = metrics.get("clearly_safe_high_rate")
    if false_alarms is not None and false_alarms > settings.target_clearly_safe_high_rate:
        reason += (
            f"; warning: it flags {false_alarms:.1%} of clearly safe test messages as high "
            f"(target at most {settings.target_clearly_safe_high_rate:.0%})"
        )
    return passed, reason


def train_and_evaluate(
    *,
    kind: str,
    backend: str,
    out_dir: Path,
    version: str,
    paths: datasets.DatasetPaths | None = None,
    extra_rows: Iterable[dict] = (),
    settings: TrainSettings | None = None,
    progress: Progress | None = None,
) -> TrainOutcome:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    settings = settings or TrainSettings()
    report = progress or (lambda stage, percent: None)
    started = time.perf_counter()

    def span(stage: str, lo: int, hi: int):
        return lambda fraction: report(stage, int(lo + (hi - lo) * max(0.0, min(1.0, fraction))))

    report("loading data", 2)
    if kind == "intent":
        extra_rows = [*extra_rows, *external_intent_rows(settings, paths)]
    rows = datasets.load_training_rows(kind, paths=paths, extra_rows=extra_rows)
    # Database labels may repeat a frozen test text; such rows are dropped (hashes only).
    test_fingerprints = datasets.frozen_test_fingerprints(kind, paths=paths)
    kept = [r for r in rows if datasets.row_fingerprint(r) not in test_fingerprints]
    excluded = len(rows) - len(kept)
    rows = kept
    train_hash = datasets.rows_hash(rows, kind=kind)

    thresholds: dict = {}
    lso_records: list[dict] = []
    if kind == "safety" and backend in CV_BACKENDS and settings.cv_folds > 1:
        # Every training row gets a leave-source-out score (no source is split between folds);
        # the blend and both thresholds are chosen on them, then the model is refitted on all.
        thresholds, blend, lso_records = tune_on_source_folds(rows, backend, settings, report)
        settings = replace(settings, blend=blend)
        model = fit_model(kind, backend, rows, settings, span("training on all data", 60, 75))
    elif kind == "safety":
        report("splitting validation", 5)
        train_rows, val_rows = datasets.grouped_split(
            rows, kind=kind, val_fraction=settings.val_fraction, seed=settings.seed
        )
        model = fit_model(kind, backend, train_rows, settings, span("training", 8, 60))
        report("tuning threshold", 62)
        thresholds = choose_thresholds(
            [r["risk_level"] == "high" for r in val_rows],
            [served_score(p) for p in _segment_high_scores(model, val_rows)],
            settings,
            method=f"grouped validation split ({settings.val_fraction:.0%})",
        )
        if backend in CV_BACKENDS and settings.refit_on_all:
            model = fit_model(kind, backend, rows, settings, span("refitting on all data", 64, 75))
            thresholds["refit_on_all"] = True
    else:
        model = fit_model(kind, backend, rows, settings, span("training", 8, 75))
    training_seconds = round(time.perf_counter() - started, 2)

    report("saving artifact", 78)
    artifact_dir = Path(out_dir)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    model.save(artifact_dir)
    if lso_records:
        # Per training row, its held-out scores (no text): the thresholds can be re-derived
        # and conversations analysed without refitting five fold models.
        (artifact_dir / LSO_SCORES_FILE).write_text(
            "".join(json.dumps(r, sort_keys=True) + "\n" for r in lso_records), encoding="utf-8"
        )
    manifest = write_manifest(
        artifact_dir,
        {
            "kind": kind,
            "backend": backend,
            "version": version,
            "labels": {h: list(v) for h, v in HEADS[kind].items()},
            "thresholds": thresholds,
            "train_data_hash": train_hash,
            "train_rows": len(rows),
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "settings": _settings_dict(settings, backend),
            "environment": _environment(),
        },
    )

    report("evaluating on frozen test split", 82)
    test_rows = datasets.load_frozen_test_rows(kind, paths=paths)
    test_hash = datasets.rows_hash(test_rows, kind=kind)
    predictor = load_predictor(artifact_dir, version=version)
    if kind == "safety":
        metrics = evaluate_safety(predictor, test_rows, latency_samples=settings.latency_samples)
        passed, reason = safety_gate(metrics, settings)
    else:
        metrics = evaluate_intent(predictor, test_rows, latency_samples=settings.latency_samples)
        passed = metrics["accuracy"] >= settings.gate_intent_accuracy
        reason = (
            f"intent accuracy {metrics['accuracy']:.3f} on the frozen test split "
            + ("is at least" if passed else "is below the required")
            + f" {settings.gate_intent_accuracy:.2f}"
        )
    metrics["training_seconds"] = training_seconds
    metrics["train_rows"] = len(rows)
    metrics["train_rows_by_source"] = dict(
        sorted(Counter(r.get("source") or "other" for r in rows).items())
    )
    metrics["excluded_test_overlap_rows"] = excluded
    metrics["test_rows"] = len(test_rows)
    metrics["train_data_hash"] = train_hash
    metrics["test_data_hash"] = test_hash
    if backend == "minilm":
        metrics["minilm_train"] = getattr(model, "train_stats", {})
    report("done", 100)
    return TrainOutcome(
        kind=kind,
        backend=backend,
        artifact_dir=artifact_dir,
        manifest=manifest,
        metrics=metrics,
        thresholds=thresholds,
        train_data_hash=train_hash,
        test_data_hash=test_hash,
        train_rows=len(rows),
        excluded_rows=excluded,
        training_seconds=training_seconds,
        gate_passed=passed,
        gate_reason=reason,
    )


def external_intent_rows(
    settings: TrainSettings, paths: datasets.DatasetPaths | None
) -> list[dict]:
    """Supporter replies written by others that intent training adds: ESConv's, when
    ../shared/data is present, all folds but the one the benchmark measures on; never with a
    data set of the caller's (``paths``) or with ``esconv_intent`` off."""
    if not settings.esconv_intent or paths is not None:
        return []
    return esconv_intent_rows("train")


def _settings_dict(settings: TrainSettings, backend: str) -> dict:
    out = asdict(settings)
    if backend != "minilm":
        out.pop("minilm")
    return out


def _environment() -> dict:
    env = {"python": platform.python_version()}
    try:
        import sklearn

        env["scikit_learn"] = sklearn.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        env["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        pass
    return env
