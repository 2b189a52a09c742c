from django.core.management.base import BaseCommand

from evaluation.services import work_queues_refresh


class Command(BaseCommand):
    help = "Fill the review and labelling queues now (what the beat job does every 5 minutes)."

    def handle(self, *args, **options):
        self.stdout.write(str(work_queues_refresh()))
