from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from evaluation.services import metrics_compute


class Command(BaseCommand):
    help = "Recompute the daily metric rows of the last N days (what the beat job does)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days: int, **options):
        today = timezone.localdate()
        rows = metrics_compute(days=[today - timedelta(days=i) for i in range(max(1, days))])
        self.stdout.write(f"Computed {rows} metric rows over {days} day(s).")
