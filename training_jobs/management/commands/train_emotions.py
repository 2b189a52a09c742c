"""python manage.py train_emotions: the emotion model (GoEmotions -> coaching feelings).

Trains the TF-IDF baseline and the served MiniLM model, prints a table of macro F1 figures,
writes ``bench-results/emotions.json`` and saves the served artifact under
``MODEL_ARTIFACT_DIR/emotions/<version>/`` (read by ``conversations.understanding.emotions``).
See docs/emotions.md.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from training_jobs.ml.emotions import (
    GOEMOTIONS_DIR,
    EmotionTrainSettings,
    train_emotion_models,
)
from training_jobs.ml.metrics import latency_summary


class Command(BaseCommand):
    help = (
        "Train the emotion model on GoEmotions (TF-IDF baseline and the served MiniLM model), "
        "print macro F1 on the test split, write bench-results/emotions.json and save the served "
        "artifact under MODEL_ARTIFACT_DIR/emotions/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default="bench-results/emotions.json")
        parser.add_argument("--data-dir", default=str(GOEMOTIONS_DIR))
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when an artifact exists"
        )
        parser.add_argument(
            "--per-label",
            type=int,
            default=None,
            help="quick run: at most N training rows per label (N/4 for dev and test)",
        )
        parser.add_argument(
            "--no-vector-cache",
            action="store_true",
            help="encode every text again (default: reuse var/cache/emotions)",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="TF-IDF model only (about a minute, no encoder); the served model is tfidf-lr",
        )
        parser.add_argument("--latency-samples", type=int, default=200)

    def handle(
        self, *args, output, data_dir, if_missing, per_label, no_vector_cache, quick, **options
    ):
        from conversations.understanding.emotions import artifact_root

        root = artifact_root()
        present = _present(root, quick=quick) if if_missing else None
        if present:
            self.stdout.write(f"emotion model present: {present}")
            return
        data_dir = Path(data_dir)
        if not (data_dir / "train.tsv").is_file():
            raise CommandError(f"GoEmotions not found in {data_dir}")
        train_settings = EmotionTrainSettings(
            per_label=(
                {"train": per_label, "dev": max(1, per_label // 4), "test": max(1, per_label // 4)}
                if per_label
                else None
            ),
            quick=quick,
            vector_cache=None
            if no_vector_cache
            else Path(settings.BASE_DIR) / "var" / "cache" / "emotions",
        )
        started = time.perf_counter()
        result = train_emotion_models(
            out_root=root, data_dir=data_dir, train_settings=train_settings, log=self._log
        )
        report = result.report
        report["timings"]["command_seconds"] = round(time.perf_counter() - started, 1)
        report["latency"] = _latency(options["latency_samples"], data_dir)
        self.stdout.write(table(report))
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        self.stdout.write(f"\nJSON written to {path}; served artifact {result.artifact}")

    def _log(self, line: str) -> None:
        self.stderr.write(line)


def _present(root: Path, *, quick: bool) -> str | None:
    """The newest readable artifact that makes this run unnecessary: any for ``--quick``, a
    full (MiniLM) one otherwise."""
    from conversations.understanding.emotions import artifact_versions
    from training_jobs.ml.artifact import ArtifactError, read_manifest

    for directory in artifact_versions(root):
        try:
            manifest = read_manifest(directory, verify=False)
        except ArtifactError:
            continue
        if quick or not (manifest.get("settings") or {}).get("quick"):
            return directory.name
    return None


def table(report: dict) -> str:
    lines = [
        "| backend | 28-label macro F1 (test) | coaching macro F1 (test) "
        "| 28-label (dev) | coaching (dev) | coaching, model only (test) |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        labels, coaching = row["label_macro_f1"], row["coaching_macro_f1"]
        lines.append(
            f"| {row['backend']} | {labels['test']:.4f} | {coaching['test']:.4f} "
            f"| {labels['dev']:.4f} | {coaching['dev']:.4f} | {coaching['test_model_only']:.4f} |"
        )
    t = report["timings"]
    lines.append("")
    lines.append(
        f"served: {report['served_backend']} (blend weight of tfidf-lr {report['blend']}, "
        f"embedding C {report.get('embedding_C', '-')}); rows {report['data']['rows']}"
    )
    lines.append(
        f"training {t['total_seconds']:.0f} s: tfidf-lr {t['tfidf_seconds']:.0f} s, "
        f"encoding {t.get('encode_seconds', 0):.0f} s, "
        f"minilm-lr {t.get('embedding_seconds', 0):.0f} s"
    )
    latency = report.get("latency") or {}
    if latency.get("uncached"):
        lines.append(
            f"feeling_of latency: p95 {latency['uncached']['p95_ms']} ms (text not yet encoded), "
            f"{latency['cached']['p95_ms']} ms (vector cached, as after the safety screen)"
        )
    return "\n".join(lines)


def _latency(samples: int, data_dir: Path) -> dict:
    """``feeling_of`` on test messages through the served path: first with texts the encoder
    has not seen, then again with their vectors cached (as after the safety screen)."""
    from conversations.understanding.emotions import clear_emotion_model_cache, feeling_of
    from training_jobs.ml.emotions import read_labels, read_split

    if samples <= 0:
        return {}
    clear_emotion_model_cache()
    texts = read_split(data_dir, "test", len(read_labels(data_dir))).texts[:samples]
    feeling_of("warm up the loaded model")
    out = {}
    for name in ("uncached", "cached"):
        seconds = []
        for text in texts:
            mark = time.perf_counter()
            feeling_of(text)
            seconds.append(time.perf_counter() - mark)
        out[name] = latency_summary(seconds)
    return out
