from django.core.management.base import BaseCommand

from evaluation.management.commands._base import run_import
from evaluation.services import dialogues_import


class Command(BaseCommand):
    help = (
        "Import seed dialogues: a JSON list of {id?, title?, messages, session_type?, flow_step?, "
        'tags?, state?, variants?} or JSONL with one {"messages": [...]} per line. One '
        "transaction; errors name the record or line."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--source", default="import", help="Source label stored on each row.")

    def handle(self, *args, path, source, **options):
        run_import(self, dialogues_import, path, source=source)
