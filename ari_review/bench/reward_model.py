"""python manage.py bench_reward_model [--source workspace|kakoverse|FILE] [--folds 5]

Cross-validated pairwise accuracy of the reward model (linear Bradley-Terry on MiniLM vectors)
beside the length baseline (the longer reply wins) and a seeded random baseline. Folds split by
comparison (workspace, file) or by conversation (KakoVerse: leave one conversation out), so no
comparison is on both sides. Prints a table; stores nothing.
"""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand, CommandError

from evaluation.selectors.preference_pairs import preference_training_pairs
from training_jobs.management.commands.train_reward_model import pairs_file_rows
from training_jobs.ml.reward import evaluate_pairs, fit_bradley_terry, kakoverse_pairs
from training_jobs.reward import KAKOVERSE_DIR, reward_pairs_from_rows


class Command(BaseCommand):
    help = "Cross-validated pairwise accuracy of the reward model against its baselines."

    def add_arguments(self, parser):
        parser.add_argument("--source", default="workspace")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, source, folds, seed, **options):
        if source == "workspace":
            pairs = reward_pairs_from_rows(preference_training_pairs())
        elif source == "kakoverse":
            pairs = kakoverse_pairs(KAKOVERSE_DIR)
            # one fold per conversation
            pairs = [
                p.__class__(p.context, p.chosen, p.rejected, p.weight, p.group.split(":")[0])
                for p in pairs
            ]
        else:
            pairs = reward_pairs_from_rows(pairs_file_rows(source))
        groups = sorted({p.group for p in pairs})
        if len(groups) < 2:
            raise CommandError(f"{source}: {len(pairs)} pairs in {len(groups)} group(s); need 2+")
        random.Random(seed).shuffle(groups)
        folds = min(folds, len(groups))
        fold_of = {g: i % folds for i, g in enumerate(groups)}
        totals = {"n": 0, "model": 0.0, "length": 0.0, "random": 0.0}
        self.stdout.write(f"{source}: {len(pairs)} pairs, {len(groups)} groups, {folds} folds")
        self.stdout.write(f"{'fold':<6}{'n':>5}{'model':>8}{'length':>8}{'random':>8}")
        for fold in range(folds):
            train = [p for p in pairs if fold_of[p.group] != fold]
            test = [p for p in pairs if fold_of[p.group] == fold]
            result = evaluate_pairs(fit_bradley_terry(train, seed=seed), test, seed=seed + fold)
            self.stdout.write(
                f"{fold:<6}{result['n']:>5}{result['accuracy']:>8.3f}"
                f"{result['length_baseline']:>8.3f}{result['random_baseline']:>8.3f}"
            )
            totals["n"] += result["n"]
            for key, name in (
                ("model", "accuracy"),
                ("length", "length_baseline"),
                ("random", "random_baseline"),
            ):
                totals[key] += result[name] * result["n"]
        n = totals["n"]
        self.stdout.write(
            f"{'all':<6}{n:>5}{totals['model'] / n:>8.3f}{totals['length'] / n:>8.3f}"
            f"{totals['random'] / n:>8.3f}"
        )
