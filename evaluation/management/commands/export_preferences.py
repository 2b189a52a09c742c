from django.core.management.base import BaseCommand

from evaluation import exports
from evaluation.management.commands._base import audit_export
from evaluation.management.commands._base import output as open_output


class Command(BaseCommand):
    help = (
        'Export preference judgements as chosen/rejected pairs in JSONL ({"prompt", "chosen", '
        '"rejected"}, the conversational format used for reward models and DPO).'
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="File (default: stdout).")
        parser.add_argument("--with-meta", action="store_true", help="Add a meta object per pair.")

    def handle(self, *args, output: str, with_meta: bool, **options):
        with open_output(output) as out:
            count = exports.preferences_export(out, with_meta=with_meta)
        audit_export(
            command="export_preferences",
            export="preferences",
            format="jsonl",
            rows=count,
            filters={"with_meta": with_meta, "output": output},
        )
        self.stderr.write(f"Exported {count} pair(s).")
