"""python manage.py classify_intent --input IN.jsonl --output OUT.jsonl"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from conversations.backends.classifiers import get_intent_classifier
from training_jobs.management.commands._classify import add_io_arguments, run_jsonl


def parse(obj: dict):
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    return text


def classify(predictor, texts):
    return [
        {"intent": p.intent, "score": p.score, "model_version": p.model_version}
        for p in predictor.predict_many(texts)
    ]


class Command(BaseCommand):
    help = (
        "Label Ari replies with the active intent model version. Input lines: "
        '{"id", "text"}; output lines: {"id", "intent", "score", "model_version"} '
        'or {"id", "error"}.'
    )

    def add_arguments(self, parser):
        add_io_arguments(parser)

    def handle(self, *args, input, output, batch_size, **options):
        ok, errors = run_jsonl(
            self,
            input_path=input,
            output_path=output,
            load=get_intent_classifier,
            parse=parse,
            classify=classify,
            batch_size=max(1, batch_size),
        )
        self.stderr.write(f"classified {ok} line(s), {errors} error line(s) -> {output}")
