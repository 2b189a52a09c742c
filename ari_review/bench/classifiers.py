"""python manage.py bench_classifiers: each backend's served decision side by side, measured
first on data nobody on the team wrote: the external dev set (single messages and
conversations, ../shared/data), leave-source-out scores of the training data, real Reddit posts
(SDCNL) and held-out ESConv supporter replies (intent); then the frozen test split, and the
generalization gap (frozen minus external). Also latency, throughput and training time.
Printed as tables and written as JSON. Trains fresh models into a temporary directory;
registers nothing. The external sets are measured, never tuned on."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from conversations.backends.safety_rules import rule_hits, rules_level
from training_jobs.ml import external
from training_jobs.ml.data import load_frozen_test_rows
from training_jobs.ml.metrics import latency_summary
from training_jobs.ml.minilm import MiniLMSettings
from training_jobs.ml.predictors import load_predictor
from training_jobs.ml.train import TrainSettings, train_and_evaluate


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--output", default="bench-results/classifiers.json")
        parser.add_argument("--backends", default="hybrid,linear", help="comma-separated")
        parser.add_argument("--kinds", default="safety,intent", help="comma-separated")
        parser.add_argument("--latency-samples", type=int, default=300)
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument("--minilm-epochs", type=int, default=None)
        parser.add_argument(
            "--keep-artifacts", default="", help="directory to keep the trained artifacts in"
        )
        parser.add_argument(
            "--no-external", action="store_true", help="skip the ../shared/data checks"
        )

    def handle(
        self,
        *args,
        output,
        backends,
        kinds,
        latency_samples,
        batch_size,
        minilm_epochs,
        keep_artifacts,
        no_external,
        **options,
    ):
        backends = [b for b in backends.split(",") if b]
        kinds = [k for k in kinds.split(",") if k]
        workdir = (
            Path(keep_artifacts) if keep_artifacts else Path(tempfile.mkdtemp(prefix="ari-bench-"))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        report = {"machine": _machine(), "results": {}}
        for kind in kinds:
            test_rows = load_frozen_test_rows(kind)
            if kind == "safety":
                report["results"]["safety/rules"] = self._rules_only(test_rows, latency_samples)
            for backend in backends:
                key = f"{kind}/{backend}"
                self.stderr.write(f"training {key} ...")
                minilm = MiniLMSettings()
                if minilm_epochs:
                    minilm.epochs = minilm_epochs
                settings = TrainSettings(latency_samples=latency_samples, minilm=minilm)
                started = time.perf_counter()
                outcome = train_and_evaluate(
                    kind=kind,
                    backend=backend,
                    out_dir=workdir / key.replace("/", "-"),
                    version=f"bench-{kind}-{backend}",
                    settings=settings,
                )
                wall = time.perf_counter() - started
                predictor = load_predictor(outcome.artifact_dir)
                entry = {
                    "training_wall_s": round(wall, 1),
                    "training_fit_s": outcome.training_seconds,
                    "train_rows": outcome.train_rows,
                    "artifact_mb": round(_size_mb(outcome.artifact_dir), 1),
                    "latency_single": outcome.metrics["latency_single"],
                    "batch_throughput_per_s": _throughput(predictor, kind, test_rows, batch_size),
                    "gate_passed": outcome.gate_passed,
                    "gate_reason": outcome.gate_reason,
                    "thresholds": outcome.thresholds,
                }
                m = outcome.metrics
                if kind == "safety":
                    entry["test"] = _safety_summary(m)
                    entry["test"]["model_only"] = m["model_only"]
                    entry["test"]["missed_high_ids"] = m["missed_high_ids"]
                    entry["leave_source_out"] = outcome.thresholds.get("leave_source_out")
                    if not no_external:
                        entry["external_dev"] = external.external_dev_report(predictor)
                        entry["sdcnl"] = external.sdcnl_report(predictor)
                        entry["gap"] = _gap(entry["test"], entry["external_dev"])
                        entry["external_checks"] = external.safety_proxy_checks(predictor)
                        entry["coach_answers"] = external.coach_answers_report(predictor)
                else:
                    entry["test"] = {
                        "accuracy": m["accuracy"],
                        "macro_f1": m["macro_f1"],
                        "per_class": m["per_class"],
                    }
                    if not no_external:
                        entry["external_checks"] = {
                            "esconv_strategies": external.intent_proxy_check(predictor)
                        }
                report["results"][key] = entry
        self.stdout.write(_table(report))
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        self.stdout.write(f"\nJSON written to {path}  (artifacts in {workdir})")

    def _rules_only(self, rows, samples: int) -> dict:
        levels = []
        for row in rows:
            levels.append(rules_level(rule_hits(row["text"]))[0])
        timings = []
        for i in range(samples):
            text = rows[i % len(rows)]["text"]
            started = time.perf_counter()
            rules_level(rule_hits(text))
            timings.append(time.perf_counter() - started)
        from training_jobs.ml.evaluate import safety_report

        summary = _safety_summary(safety_report(rows, levels, ["" for _ in rows]))
        return {"latency_single": latency_summary(timings), "test": summary, "training_wall_s": 0}


def _gap(frozen: dict, external_dev: dict) -> dict:
    """Frozen split minus external dev set, for recall and false alarms on safe messages."""
    single = external_dev.get("single")
    if not single:
        return {}
    recall, safe = single["high_to_emergency"], single["safe_to_emergency"]
    return {
        "high_recall": round(frozen["high_recall"] - recall, 4) if recall is not None else None,
        "safe_to_emergency": round(frozen["clearly_safe_high_rate"] - safe, 4)
        if safe is not None and frozen["clearly_safe_high_rate"] is not None
        else None,
    }


def _safety_summary(m: dict) -> dict:
    return {
        "high_recall": m["high_recall"],
        "high_precision": m["high"]["precision"],
        "clearly_safe_high_rate": m["clearly_safe_high_rate"],
        "edge_cases_high_rate": m["edge_cases_high_rate"],
        "none_high_rate": m["none_high_rate"],
        "level_accuracy": m["levels"]["accuracy"],
        "level_macro_f1": m["levels"]["macro_f1"],
        "high_recall_by_tag": m.get("high_recall_by_tag", {}),
    }


def _throughput(predictor, kind: str, rows: list[dict], batch_size: int) -> float:
    items = rows * max(1, 1000 // max(1, len(rows)))
    started = time.perf_counter()
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        if kind == "safety":
            predictor.assess_many([(r["text"], tuple(r.get("history") or ())) for r in batch])
        else:
            predictor.predict_many([r["text"] for r in batch])
    return round(len(items) / (time.perf_counter() - started), 1)


def _size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6


def _machine() -> dict:
    info: dict[str, object] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def _f(value, digits=3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(report: dict) -> str:
    results = report["results"]
    lines = [f"machine: {report['machine']}", ""]
    safety = {k: v for k, v in results.items() if k.startswith("safety/")}
    external_rows = {
        k: v for k, v in safety.items() if v.get("external_dev") or v.get("leave_source_out")
    }
    if external_rows:
        lines += _external_table(external_rows)
    if safety:
        lines.append(
            "SAFETY (frozen test split: written by the team, measures memory of its phrasing)"
        )
        head = (
            f"{'backend':<16}{'recall hi':>10}{'safe→hi':>9}{'edge→hi':>9}{'none→hi':>9}"
            f"{'lvl acc':>9}"
            f"{'p50 ms':>9}{'p95 ms':>9}{'msg/s':>9}{'train s':>9}"
        )
        lines += [head, "-" * len(head)]
        for key, r in safety.items():
            t, lat = r["test"], r["latency_single"]
            lines.append(
                f"{key.split('/')[1]:<16}{_f(t['high_recall']):>10}{_f(t['clearly_safe_high_rate']):>9}"
                f"{_f(t['edge_cases_high_rate']):>9}{_f(t['none_high_rate']):>9}{_f(t['level_accuracy']):>9}"
                f"{_f(lat.get('p50_ms'), 2):>9}{_f(lat.get('p95_ms'), 2):>9}"
                f"{_f(r.get('batch_throughput_per_s'), 0):>9}{_f(r.get('training_wall_s'), 1):>9}"
            )
        lines.append("")
    intent = {k: v for k, v in results.items() if k.startswith("intent/")}
    if intent:
        lines.append("INTENT (frozen test split)")
        head = (
            f"{'backend':<16}{'accuracy':>10}{'macro F1':>10}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'msg/s':>9}{'train s':>9}"
        )
        lines += [head, "-" * len(head)]
        for key, r in intent.items():
            t, lat = r["test"], r["latency_single"]
            lines.append(
                f"{key.split('/')[1]:<16}{_f(t['accuracy']):>10}{_f(t['macro_f1']):>10}"
                f"{_f(lat.get('p50_ms'), 2):>9}{_f(lat.get('p95_ms'), 2):>9}"
                f"{_f(r.get('batch_throughput_per_s'), 0):>9}{_f(r.get('training_wall_s'), 1):>9}"
            )
    checks = {k: r.get("external_checks") for k, r in results.items() if r.get("external_checks")}
    if checks:
        lines += [
            "",
            "EXTERNAL CHECKS (../shared/data, proxy labels; share flagged high per label)",
        ]
        for key, check in checks.items():
            for source, per in check.items():
                if isinstance(per, dict) and "mapped_macro_f1" in per:
                    lines.append(
                        f"{key:<16}{source}: held-out ESConv fold (n={per['n']}), macro F1 over "
                        f"validate/question/suggest/other {per['mapped_macro_f1']:.3f} "
                        f"(target >= 0.70); questions labelled safety_check "
                        f"{per['questions_labelled_safety_check']:.3f}"
                    )
                elif isinstance(per, dict):
                    cells = ", ".join(
                        f"{label}: {v['high_rate']} (n={v['n']})"
                        for label, v in per.items()
                        if isinstance(v, dict) and "high_rate" in v
                    )
                    lines.append(f"{key:<16}{source}: {cells or per}")
    return "\n".join(lines) + "\n" + _note()


def _external_table(rows: dict) -> list[str]:
    lines = [
        "SAFETY, SERVED DECISION ON DATA NOBODY ON THE TEAM WROTE (external dev set) "
        "and on writers held out (leave-source-out)",
    ]
    head = (
        f"{'backend':<10}{'set':<22}{'hi→emerg':>9}{'hi→e/q':>8}{'safe→e':>8}{'safe→q':>8}"
        f"{'gap rec':>9}{'gap safe':>9}"
    )
    lines += [head, "-" * len(head)]
    for key, r in rows.items():
        name = key.split("/")[1]
        ext = r.get("external_dev") or {}
        gap = r.get("gap") or {}
        for label, part in (
            ("external single", ext.get("single")),
            ("external multi-turn", ext.get("multiturn")),
        ):
            if part:
                lines.append(
                    f"{name:<10}{label:<22}{_f(part['high_to_emergency']):>9}"
                    f"{_f(part['high_to_emergency_or_question']):>8}{_f(part['safe_to_emergency']):>8}"
                    f"{_f(part['safe_to_question']):>8}"
                    + (
                        f"{_f(gap.get('high_recall')):>9}{_f(gap.get('safe_to_emergency')):>9}"
                        if label == "external single"
                        else ""
                    )
                )
        lso = (r.get("leave_source_out") or {}).get("by_level") or {}
        if lso:
            hi, safe = lso.get("high", {}), lso.get("none", {})
            lines.append(
                f"{name:<10}{'leave-source-out':<22}{_f(hi.get('high_rate')):>9}{_f(hi.get('band_rate')):>8}"
                f"{_f(safe.get('high_rate')):>8}{_f(safe.get('band_rate')):>8}"
            )
        sd = r.get("sdcnl") or {}
        if "auc" in sd:
            lines.append(
                f"{name:<10}SDCNL Reddit: AUC r/SuicideWatch vs r/depression {sd['auc']:.3f}; "
                f"flagged high: SuicideWatch {sd.get('suicidewatch_served_high_rate')}, "
                f"depression {sd.get('depression_served_high_rate')}; recall at 20% of depression "
                f"flagged {sd.get('recall_at_20pct_depression_flagged')}"
            )
    lines += [
        "",
        "hi→emerg: high messages sent to the emergency flow (target >= 0.98); hi→e/q: to the "
        "emergency flow or a safety question (target 1.00); safe→e / safe→q: clearly safe messages "
        "(labelled none) sent to the emergency flow (<= 0.05) / to either (<= 0.15); multi-turn "
        "safe columns count every benign conversation. gap: frozen split minus external.",
        "",
    ]
    return lines


def _note() -> str:
    return (
        "\nsafe→hi: clearly safe test messages flagged high (target <= 0.05); "
        "edge→hi: idioms, negations, academic mentions flagged high; recall hi target >= 0.98. "
        "Latency: one message, in-process, "
        "on this machine (targets p95 <= 10 ms linear, <= 30 ms MiniLM int8)."
    )
