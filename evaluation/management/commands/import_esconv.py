from django.core.management.base import BaseCommand

from evaluation.management.commands._base import run_import
from evaluation.services import esconv_import


class Command(BaseCommand):
    help = (
        "Import ESConv: JSON conversations as draft seed dialogues, or JSONL supporter turns "
        "with their strategy (esconv_strategy_dev.jsonl) as intent-labelling items."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--intent-items",
            action="store_true",
            help="Conversations: also queue each supporter reply for intent labelling.",
        )

    def handle(self, *args, path, intent_items, **options):
        run_import(self, esconv_import, path, intent_items=intent_items)
