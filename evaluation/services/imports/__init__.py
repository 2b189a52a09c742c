"""Importers, one module per format: seed dialogues (JSON list or OpenAI JSONL), counsel-chat
(CSV or JSONL), ESConv JSON and KakoVerse conversation JSON.

Each import parses and checks the whole file first, then writes everything in one transaction:
a bad file raises ``ImportFileError`` naming the line or record, and nothing is imported.
Records whose id was imported before are skipped, so importing a file twice is harmless.

Text from a file follows the application's one rule for text from outside
(``ari_review.validation``): control characters (raw or as JSON escapes such as ``\u0000``)
and JSON nested deeper than ``ARI_MAX_JSON_DEPTH`` refuse the file naming the line or record.
A file over ``ARI_MAX_UPLOAD_BYTES`` is refused before it is read (uploads larger than that
are already a 413 at the HTTP edge: ``ari_review.request_edges``).

The entry point is ``formats.import_file``.
"""
