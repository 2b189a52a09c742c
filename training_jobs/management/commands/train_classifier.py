"""python manage.py train_classifier safety|intent [--backend hybrid|linear|minilm] [--activate]"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from training_jobs.ml.external import esconv_intent_rows
from training_jobs.ml.labels import BACKENDS, KINDS
from training_jobs.ml.minilm import MiniLMSettings
from training_jobs.ml.train import TrainSettings
from training_jobs.services import (
    GATE_HIGH_RECALL,
    GATE_INTENT_ACCURACY,
    model_version_train,
)


class Command(BaseCommand):
    help = (
        "Train a classifier from the shipped data plus database labels, evaluate it on the frozen "
        "test split, store a model version, and (with --activate) propose it in a release if it "
        f"passes its gate (safety: high-risk recall >= {GATE_HIGH_RECALL}; "
        f"intent: accuracy >= {GATE_INTENT_ACCURACY})."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--backend", choices=BACKENDS, default="hybrid")
        parser.add_argument(
            "--activate",
            action="store_true",
            help="if the gate passes: a draft release (a fresh install's first goes live)",
        )
        parser.add_argument(
            "--no-database-labels", action="store_true", help="train on the shipped data only"
        )
        parser.add_argument(
            "--no-esconv",
            action="store_true",
            help="intent: leave out the ESConv supporter replies (four of five folds) that are "
            "added from ../shared/data when it is present (training_jobs/datasets/README.md)",
        )
        parser.add_argument(
            "--context-thresholds",
            action="store_true",
            help="safety: serve a threshold pair of its own for a message read with its history, "
            "chosen on held-out conversations (off by default: docs/safety-classifier-status.md)",
        )
        parser.add_argument("--epochs", type=int, default=None, help="MiniLM: training epochs")
        parser.add_argument(
            "--max-steps", type=int, default=None, help="MiniLM: stop after N steps"
        )
        parser.add_argument(
            "--train-limit", type=int, default=None, help="MiniLM: use N rows at most"
        )

    def handle(
        self,
        *args,
        kind,
        backend,
        activate,
        no_database_labels,
        no_esconv,
        context_thresholds,
        epochs,
        max_steps,
        train_limit,
        **options,
    ):
        if no_esconv and kind != "intent":
            raise CommandError("--no-esconv applies to the intent classifier only")
        if kind == "intent" and not no_esconv:
            added = len(esconv_intent_rows("train"))
            self.stderr.write(
                f"adding {added} mapped ESConv replies (training folds)"
                if added
                else "ESConv (../shared/data) not present: shipped intent rows only"
            )
        if context_thresholds and kind != "safety":
            raise CommandError("--context-thresholds applies to the safety classifier only")
        minilm = MiniLMSettings(max_steps=max_steps, train_limit=train_limit)
        if epochs:
            minilm.epochs = epochs
        train_settings = TrainSettings(
            gate_high_recall=GATE_HIGH_RECALL,
            gate_intent_accuracy=GATE_INTENT_ACCURACY,
            minilm=minilm,
            esconv_intent=not no_esconv,
            context_thresholds=context_thresholds,
        )
        last: dict[str, str | None] = {"stage": None}

        def progress(stage: str, percent: int) -> None:
            if stage != last["stage"]:
                last["stage"] = stage
                self.stderr.write(f"[{percent:3d}%] {stage}")
                sys.stderr.flush()

        try:
            result = model_version_train(
                kind=kind,
                backend=backend,
                activate=activate,
                use_database_labels=not no_database_labels,
                train_settings=train_settings,
                progress=progress,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        version = result.version
        self.stdout.write(summary_table(version))
        if activate:
            if result.activated:
                self.stdout.write(
                    self.style.SUCCESS(f"Activated {version.name}: {version.gate_reason}.")
                )
            elif not version.gate_passed:
                self.stdout.write(self.style.WARNING(f"Not activated: {version.gate_reason}."))
            else:
                self.stdout.write(f"Not live yet: {result.activation_note}.")
        else:
            self.stdout.write(
                f"Stored {version.name} (not activated; gate: {version.gate_reason})."
            )


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def summary_table(version) -> str:
    m = version.metrics or {}
    lines = [
        f"model version   {version.name}",
        f"backend         {version.backend}",
        f"artifact        {version.artifact_dir}",
        f"train rows      {version.train_rows} (database: {version.database_rows})   "
        f"train hash {version.train_data_hash[:12]}   test hash {version.test_data_hash[:12]}",
        f"training time   {_fmt(version.training_seconds, 1)} s",
    ]
    latency = m.get("latency_single") or {}
    lines.append(
        f"latency         p50 {_fmt(latency.get('p50_ms'), 2)} ms   "
        f"p95 {_fmt(latency.get('p95_ms'), 2)} ms"
    )
    if version.kind == "safety":
        lines.append(f"threshold high  {_fmt((version.thresholds or {}).get('high'), 4)}")
        lines.append("")
        lines.append(
            f"{'frozen test':<22}{'high recall':>12}{'clearly-safe→high':>19}{'edge→high':>11}"
        )
        for label, block in (
            ("served (model+rules)", m),
            ("model alone", m.get("model_only") or {}),
            ("rules alone", m.get("rules_only") or {}),
        ):
            lines.append(
                f"{label:<22}{_fmt(block.get('high_recall')):>12}"
                f"{_fmt(block.get('clearly_safe_high_rate')):>19}{_fmt(block.get('edge_cases_high_rate')):>11}"
            )
        per_class = (m.get("levels") or {}).get("per_class") or {}
    else:
        lines.append(
            f"accuracy        {_fmt(m.get('accuracy'))}   macro F1 {_fmt(m.get('macro_f1'))}"
        )
        per_class = m.get("per_class") or {}
    lines.append("")
    lines.append(f"{'class':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for label, row in per_class.items():
        lines.append(
            f"{label:<20}{_fmt(row['precision']):>10}{_fmt(row['recall']):>10}{_fmt(row['f1']):>10}{row['support']:>9}"
        )
    return "\n".join(lines)
