"""The ``transformers`` backend: a local causal language model, loaded once per process.

``TRANSFORMERS_MODEL_DIR`` is a directory saved with ``save_pretrained`` (config, weights,
tokenizer). ``TRANSFORMERS_ADAPTER_DIR`` optionally names a PEFT/LoRA adapter trained on top of
it (needs the ``peft`` package). Nothing is downloaded: both are loaded with
``local_files_only=True``. Decoding is greedy and bounded by ``TRANSFORMERS_MAX_NEW_TOKENS`` and
by ``ARI_GENERATION_DEADLINE_S`` (``max_time``; loading the model once per process is not
counted): a reply cut by the deadline is never used (``GenerationError("timeout")``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import Generated, GenerationError
from conversations.backends.generation.prompting import chat_messages

logger = logging.getLogger(__name__)

_STOP_MARKERS = re.compile(r"\n\s*(?:user|system|assistant|ari)\s*:|<\|", re.IGNORECASE)


@dataclass
class _Loaded:
    model: Any  # a transformers model (or PEFT-wrapped one): loaded at run time
    tokenizer: Any
    name: str


_lock = threading.Lock()
_loaded: dict[tuple[str, str], _Loaded] = {}


def _load(model_dir: str, adapter_dir: str) -> _Loaded:
    key = (model_dir, adapter_dir)
    loaded = _loaded.get(key)
    if loaded is not None:
        return loaded
    with _lock:
        loaded = _loaded.get(key)
        if loaded is not None:
            return loaded
        if not model_dir or not os.path.isdir(model_dir):
            raise GenerationError(
                "model_missing", f"TRANSFORMERS_MODEL_DIR {model_dir!r} is not a directory."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            # transformers' from_pretrained is untyped
            tokenizer: Any = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)  # type: ignore[no-untyped-call]
            model: Any = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise GenerationError("model_load_error", f"Cannot load {model_dir!r}: {exc}") from exc
        name = os.path.basename(os.path.normpath(model_dir))
        if adapter_dir:
            try:
                from peft import PeftModel
            except ImportError as exc:
                raise GenerationError(
                    "peft_missing",
                    "TRANSFORMERS_ADAPTER_DIR is set but the 'peft' package is not installed.",
                ) from exc
            if not os.path.isdir(adapter_dir):
                raise GenerationError(
                    "adapter_missing",
                    f"TRANSFORMERS_ADAPTER_DIR {adapter_dir!r} is not a directory.",
                )
            try:
                model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=False)
            except Exception as exc:  # a missing config, bad JSON, corrupt safetensors, ...
                raise GenerationError(
                    "adapter_load_error", f"Cannot load adapter {adapter_dir!r}: {exc}"
                ) from exc
            name = f"{name}+{os.path.basename(os.path.normpath(adapter_dir))}"
        # Inference only: no gradients needed, but the process-wide autograd switch is left alone
        # (generation runs under ``torch.inference_mode()``; training may share the process).
        model.requires_grad_(False)
        model.eval()
        loaded = _Loaded(model=model, tokenizer=tokenizer, name=name)
        _loaded[key] = loaded
        logger.info("transformers generator loaded model=%s", name)
        return loaded


def loaded_models_reset() -> None:
    with _lock:
        _loaded.clear()


def _prompt(tokenizer: Any, request: GenerationRequest) -> str:
    messages = chat_messages(request)
    if getattr(tokenizer, "chat_template", None):
        prompt: str = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        return prompt
    lines = []
    for message in messages:
        speaker = {"system": "System", "user": "User", "assistant": "Ari"}[message["role"]]
        lines.append(f"{speaker}: {message['content']}")
    lines.append("Ari:")
    return "\n".join(lines)


class TransformersGenerator:
    name = "transformers"

    def __init__(
        self,
        *,
        model_dir: str | None = None,
        adapter_dir: str | None = None,
        max_new_tokens: int | None = None,
    ) -> None:
        self.model_dir = model_dir or settings.TRANSFORMERS_MODEL_DIR
        self.adapter_dir = settings.TRANSFORMERS_ADAPTER_DIR if adapter_dir is None else adapter_dir
        self.max_new_tokens = max_new_tokens or settings.TRANSFORMERS_MAX_NEW_TOKENS

    def loaded(self) -> _Loaded:
        return _load(self.model_dir, self.adapter_dir or "")

    def generate(self, request: GenerationRequest) -> Generated:
        import torch

        loaded = self.loaded()
        tokenizer, model = loaded.tokenizer, loaded.model
        prompt = _prompt(tokenizer, request)
        inputs = tokenizer(prompt, return_tensors="pt")
        limit = getattr(model.config, "max_position_embeddings", None) or getattr(
            model.config, "n_positions", 2048
        )
        if limit is None:
            raise GenerationError(
                "model_config_error", "The model's config names no context length."
            )
        keep = max(8, limit - self.max_new_tokens)
        input_ids = inputs["input_ids"][:, -keep:]
        attention = inputs.get("attention_mask")
        attention = attention[:, -keep:] if attention is not None else torch.ones_like(input_ids)
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        deadline = float(settings.ARI_GENERATION_DEADLINE_S)
        started = time.monotonic()
        try:
            with torch.inference_mode():
                output = model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    max_new_tokens=self.max_new_tokens,
                    max_time=deadline,
                    do_sample=False,
                    pad_token_id=pad_id,
                )
        except (RuntimeError, ValueError) as exc:
            raise GenerationError("generate_error", str(exc)) from exc
        if time.monotonic() - started >= deadline:
            raise GenerationError("timeout")  # stopped by max_time: a fragment at most
        new_tokens = output[0, input_ids.shape[1] :]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        text = _STOP_MARKERS.split(text, maxsplit=1)[0].strip()
        if not text:
            raise GenerationError("empty_reply")
        return Generated(
            text=text,
            backend=self.name,
            model=loaded.name,
            details={"new_tokens": int(new_tokens.shape[0])},
        )
