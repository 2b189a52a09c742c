from django.core.management.base import BaseCommand

from evaluation import exports
from evaluation.management.commands._base import audit_export
from evaluation.management.commands._base import output as open_output
from evaluation.models import SeedDialogue


class Command(BaseCommand):
    help = (
        'Export approved seed dialogues as OpenAI fine-tuning JSONL ({"messages": [...]} per '
        "line), or --format seed for the JSON that import_dialogues reads. Text is masked."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="File (default: stdout).")
        parser.add_argument("--format", choices=["openai", "seed"], default="openai")
        parser.add_argument(
            "--state",
            choices=SeedDialogue.State.values,
            default=None,
            help="seed format only: export this state (default: all).",
        )

    def handle(self, *args, output: str, format: str, state, **options):
        with open_output(output) as out:
            if format == "openai":
                count = exports.dialogues_export_openai(out)
            else:
                count = exports.dialogues_export_seed(out, state=state)
        audit_export(
            command="export_dialogues",
            export="dialogues",
            format=format,
            rows=count,
            filters={"state": "approved" if format == "openai" else state, "output": output},
        )
        self.stderr.write(f"Exported {count} dialogue(s).")
