"""python manage.py classify_risk --input IN.jsonl --output OUT.jsonl"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from conversations.backends.classifiers import get_safety_classifier
from training_jobs.management.commands._classify import add_io_arguments, run_jsonl


def parse(obj: dict):
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    history = obj.get("history", [])
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise ValueError("'history' must be a list of strings")
    return text, tuple(history)


def classify(predictor, items):
    return [
        {
            "risk_level": a.level,
            "category": a.category,
            "score": a.score,
            "model_version": a.model_version,
        }
        for a in predictor.assess_many(items)
    ]


class Command(BaseCommand):
    help = (
        "Score user messages with the active safety model version. Input lines: "
        '{"id", "text", "history"?: [earlier user texts]}; output lines: '
        '{"id", "risk_level", "category", "score", "model_version"} or {"id", "error"}.'
    )

    def add_arguments(self, parser):
        add_io_arguments(parser)

    def handle(self, *args, input, output, batch_size, **options):
        ok, errors = run_jsonl(
            self,
            input_path=input,
            output_path=output,
            load=get_safety_classifier,
            parse=parse,
            classify=classify,
            batch_size=max(1, batch_size),
        )
        self.stderr.write(f"classified {ok} line(s), {errors} error line(s) -> {output}")
