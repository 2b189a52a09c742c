"""Precision and recall of PII masking on the labelled messages in
tests/evaluation/data/pii_messages.jsonl (100 messages in English, Spanish, German and French,
written for this project); prints a table and writes bench-results/pii_masking.json.

    python manage.py bench_pii_masking
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ari_review.bench.masking_eval import DATA, masking_evaluate, messages_load
from ari_review.privacy.ner import ner_disable


class Command(BaseCommand):
    help = "Measure PII masking (precision, recall per type, latency); prints a table, writes JSON."

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(DATA))
        parser.add_argument("--output", default="bench-results/pii_masking.json")
        parser.add_argument(
            "--without-ner",
            action="store_true",
            help="measure the fallback used when the NER layer is down (patterns + conservative)",
        )

    def handle(self, *args, data: str, output: str, without_ner: bool, **options):
        path = Path(data)
        if not path.is_file():
            raise CommandError(f"{data}: no such file")
        if without_ner:
            ner_disable("disabled by bench_pii_masking --without-ner")
        report = masking_evaluate(messages_load(path))
        w = self.stdout.write
        w(f"{report['messages']} messages ({report['messages_without_pii']} without PII)")
        w(f"{'gold type':<10} {'spans':>5} {'recall':>7} {'typed':>7}")
        for name, row in report["by_type"].items():
            w(f"{name:<10} {row['gold']:>5} {row['recall']:>7.3f} {row['typed_recall']:>7.3f}")
        w(f"{'mask kind':<10} {'spans':>5} {'precision':>9}")
        for name, row in report["by_kind"].items():
            w(f"{name:<10} {row['masked']:>5} {row['precision']:>9.3f}")
        overall = report["overall"]
        w(
            f"overall: recall {overall['recall']:.3f} of {overall['gold']} spans, "
            f"precision {overall['precision']:.3f} of {overall['masked']} masks"
        )
        for lang, types in report["by_language"].items():
            w(f"recall {lang}: " + ", ".join(f"{t} {v:.2f}" for t, v in types.items()))
        latency = report["latency_ms"]
        w(
            f"latency per message: median {latency['median']} ms, p95 {latency['p95']} ms, "
            f"max {latency['max']} ms; all {report['messages']} as one transcript "
            f"{latency['transcript_of_all_messages']} ms; first load {latency['first_load_s']} s"
        )
        ner = report["ner"]
        w(f"NER: {', '.join(ner['versions'].values()) or 'unavailable: ' + str(ner['load_error'])}")
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        w(f"wrote {target}")
