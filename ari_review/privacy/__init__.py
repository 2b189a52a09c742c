"""Finding personal details in message text (see docs/privacy-masking.md).

``ari_review.privacy.masking`` is the entry point: ``mask_text`` / ``mask_messages``.
"""
