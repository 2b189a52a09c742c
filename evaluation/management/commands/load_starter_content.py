from django.core.management.base import BaseCommand

from evaluation.services.starter import seed_bank_load, starter_content_load


class Command(BaseCommand):
    help = (
        "Load the starter content (crisis resources, persona prompt, fixed safety replies, "
        "approved starter dialogues, the oncall group) and the seed-dialogue bank as drafts for "
        "clinician approval. Idempotent: only what is missing is added."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also overwrite catalogue entries and add the shipped persona/fixed replies as "
            "the newest versions.",
        )

    def handle(self, *args, force=False, **options):
        counts = starter_content_load(force=force)
        counts["seed_bank_drafts"] = seed_bank_load()
        for kind, created in counts.items():
            self.stdout.write(f"{kind}: {created} created")
