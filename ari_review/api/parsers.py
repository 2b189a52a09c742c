"""The API's JSON parser (the default of every view, ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

On top of DRF's parser it refuses, as a 400 naming the field (``messages.0.content: ...``):
control characters and lone surrogates in any key or string, at any depth, and documents
nested deeper than ``ARI_MAX_JSON_DEPTH`` (``ari_review.validation``). A document deep enough
to exhaust Python's parser is the same 400, never a 500. Form and multipart bodies are
checked by ``ari_review.request_edges``; sizes by the same middleware (413).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ValidationError

from ari_review.validation import data_problem, json_depth_message


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        max_depth = settings.ARI_MAX_JSON_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ValidationError({"body": [json_depth_message(max_depth)]}) from None
        problem = data_problem(data, max_depth=max_depth)
        if problem is not None:
            raise ValidationError({problem.field: [problem.message]})
        return data
