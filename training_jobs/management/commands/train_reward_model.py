"""python manage.py train_reward_model [--pairs FILE] [--activate]

Trains the reward model (linear Bradley-Terry on MiniLM sentence vectors) on the clinician
preference pairs in the workspace, or on a JSONL file of pairs in the export format
(``manage.py export_preferences``: ``{"prompt", "chosen", "rejected"}``), stores a ``reward``
model version and prints its pairwise accuracy on held-out pairs (and on KakoVerse's pairs when
``../shared/data/kakoverse`` is present) beside the length and random baselines.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from training_jobs.services import reward_version_train


def pairs_file_rows(path: str) -> list[dict]:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    rows = []
    for number, line in enumerate(file.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file.name}:{number}: not valid JSON ({exc.msg})") from None
        if not {"chosen", "rejected"} <= set(row):
            raise CommandError(f"{file.name}:{number}: a pair needs chosen and rejected")
        rows.append(row)
    return rows


class Command(BaseCommand):
    help = "Train the reward model on clinician preference pairs and store a model version."

    def add_arguments(self, parser):
        parser.add_argument("--pairs", help="JSONL pairs file (default: the workspace's pairs)")
        parser.add_argument("--activate", action="store_true", help="activate if its gate holds")

    def handle(self, *args, pairs, activate, **options):
        rows = pairs_file_rows(pairs) if pairs else None
        try:
            result = reward_version_train(rows=rows, activate=activate)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        version = result.version
        m = version.metrics
        self.stdout.write(f"{version.name}: {m['pairs']} pairs ({m['train_pairs']} trained on)")
        self.stdout.write(f"{'pairs':<22}{'n':>5}{'model':>8}{'length':>8}{'random':>8}")
        for name in ("heldout", "train", "kakoverse"):
            block = m.get(name)
            if block and block.get("n"):
                self.stdout.write(
                    f"{name:<22}{block['n']:>5}{block.get('accuracy', float('nan')):>8.3f}"
                    f"{block['length_baseline']:>8.3f}{block['random_baseline']:>8.3f}"
                )
        self.stdout.write(f"gate: {version.gate_reason}; {result.activation_note}")
