from contextlib import ExitStack
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from evaluation.services import kakoverse_import


class Command(BaseCommand):
    help = (
        "Import KakoVerse conversation JSON files (or folders of them): each supporter turn's "
        "styles become one preference comparison. All files in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")

    def handle(self, *args, paths, **options):
        files = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files += sorted(path.glob("*.json"))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{raw}: no such file or folder", returncode=2)
        if not files:
            raise CommandError("no .json files found", returncode=2)
        with ExitStack() as stack:
            handles = [(f.name, stack.enter_context(f.open("rb"))) for f in files]
            try:
                result = kakoverse_import(files=handles)
            except ApplicationError as exc:
                raise CommandError(f"nothing imported: {exc.message}") from None
        self.stdout.write(result.summary())
