"""Moved to :mod:`ari_review.privacy.masking` (masking is core: the chat runtime and the
workspace both use it). This alias stays only for ``conversations/backends/generation/
openai_compat.py``, which is being changed elsewhere; delete it once that file imports
``ari_review.privacy.masking`` (the ``.importlinter`` ignore entry goes with it)."""

from ari_review.privacy.masking import mask_text

__all__ = ["mask_text"]
