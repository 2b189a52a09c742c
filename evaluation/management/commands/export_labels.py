from django.core.management.base import BaseCommand

from evaluation import exports
from evaluation.management.commands._base import audit_export
from evaluation.management.commands._base import output as open_output


class Command(BaseCommand):
    help = "Export clinician labels (safety or intent) as JSONL (one item per line) or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=["safety", "intent"], required=True)
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", "-o", default="-", help="File (default: stdout).")

    def handle(self, *args, kind: str, format: str, output: str, **options):
        with open_output(output, newline="" if format == "csv" else None) as out:
            if format == "csv":
                count = exports.labels_export_csv(out, kind=kind)
            else:
                count = exports.labels_export_jsonl(out, kind=kind)
        audit_export(
            command="export_labels",
            export=f"{kind}_labels",
            format=format,
            rows=count,
            filters={"output": output},
        )
        self.stderr.write(f"Exported {count} {'label rows' if format == 'csv' else 'items'}.")
