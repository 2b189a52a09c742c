"""Finding personal details in message text (see docs/privacy-masking.md).

``evaluation.privacy`` is the entry point: ``mask_text`` / ``mask_messages``.
"""
