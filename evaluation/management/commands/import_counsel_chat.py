from django.core.management.base import BaseCommand

from evaluation.management.commands._base import run_import
from evaluation.services import counsel_chat_import


class Command(BaseCommand):
    help = (
        "Import counsel-chat (CSV with questionID, questionTitle, questionText, topic, answerText; "
        "or its JSONL form): questions become safety-labelling items."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--dialogues",
            action="store_true",
            help="Also create draft seed dialogues from answers.",
        )

    def handle(self, *args, path, dialogues, **options):
        run_import(self, counsel_chat_import, path, dialogues=dialogues)
