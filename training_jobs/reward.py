"""Training the reward model (clinician preference pairs) into a model version, and reading it.

``reward_model_train`` splits the pairs by comparison (held-out 20%), fits the linear
Bradley-Terry reward (:mod:`training_jobs.ml.reward`) on the rest, and stores a ``reward``
model version with its pairwise accuracy on the held-out pairs and, when
``../shared/data/kakoverse`` is present, on KakoVerse's crisis-chat pairs, each beside the length
and random baselines. Its gate: held-out accuracy above both baselines (and at least
``MIN_PAIRS`` pairs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from evaluation.selectors.preference_pairs import preference_training_pairs
from training_jobs.ml.reward import (
    Pair,
    RewardModel,
    context_text,
    evaluate_pairs,
    fit_bradley_terry,
    kakoverse_pairs,
    split_pairs,
)
from training_jobs.models import Backend, ModelKind, ModelVersion

logger = logging.getLogger(__name__)
MIN_PAIRS = 20
HELDOUT_FRACTION = 0.2
KAKOVERSE_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "kakoverse"


def reward_pairs_from_rows(rows: list[dict]) -> list[Pair]:
    """Pairs from ``preference_training_pairs`` rows or DPO-export lines (``{"prompt",
    "chosen", "rejected"}`` in the conversational format)."""
    pairs = []
    for n, row in enumerate(rows):
        context = row.get("context", row.get("prompt")) or []
        chosen, rejected = row["chosen"], row["rejected"]
        if isinstance(chosen, list):
            chosen = " ".join(m.get("content", "") for m in chosen)
        if isinstance(rejected, list):
            rejected = " ".join(m.get("content", "") for m in rejected)
        group = row.get("group") or str((row.get("meta") or {}).get("item_id") or f"row-{n}")
        pairs.append(
            Pair(
                context=context_text(context) if isinstance(context, list) else str(context),
                chosen=chosen,
                rejected=rejected,
                weight=float(row.get("weight", 1.0)),
                group=group,
            )
        )
    return pairs


def _pairs_hash(pairs: list[Pair]) -> str:
    digest = hashlib.sha256()
    for p in sorted(pairs, key=lambda p: (p.group, p.chosen, p.rejected)):
        digest.update(json.dumps([p.context, p.chosen, p.rejected]).encode("utf-8"))
    return digest.hexdigest()


def reward_model_train(
    *,
    created_by=None,
    rows: list[dict] | None = None,
    seed: int = 0,
    kakoverse_dir: Path | None = None,
    progress: Callable[[str, int], None] | None = None,
):
    """Train, measure and store a reward model version. ``rows``: the pairs to learn from
    (default: every clinician judgement in the workspace). Activation is the caller's
    (``training_jobs.services.model_version_activate``, gated)."""
    report = progress or (lambda stage, percent: None)
    report("loading preference pairs", 5)
    pairs = reward_pairs_from_rows(preference_training_pairs() if rows is None else rows)
    if len(pairs) < MIN_PAIRS:
        raise ApplicationError(
            f"A reward model needs at least {MIN_PAIRS} preference pairs; the workspace has "
            f"{len(pairs)}. Clinicians add them on the preference queue."
        )
    started = time.perf_counter()
    train, heldout = split_pairs(pairs, heldout_fraction=HELDOUT_FRACTION, seed=seed)
    report("embedding and fitting", 20)
    model = fit_bradley_terry(train, seed=seed)
    report("measuring", 70)
    metrics: dict[str, Any] = {
        "pairs": len(pairs),
        "train_pairs": len(train),
        "heldout": evaluate_pairs(model, heldout, seed=seed),
        "train": evaluate_pairs(model, train, seed=seed),
    }
    metrics["heldout_pairwise_accuracy"] = metrics["heldout"].get("accuracy")
    kako = kakoverse_pairs(kakoverse_dir or KAKOVERSE_DIR)
    if kako:
        metrics["kakoverse"] = evaluate_pairs(model, kako, seed=seed)
    held = metrics["heldout"]
    baseline = max(held.get("length_baseline", 0.5), held.get("random_baseline", 0.5))
    accuracy = held.get("accuracy") or 0.0
    gate_passed = accuracy > baseline
    gate_reason = (
        f"held-out pairwise accuracy {accuracy:.3f} "
        f"{'beats' if gate_passed else 'does not beat'} the best baseline {baseline:.3f}"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{ModelKind.REWARD}-{Backend.BRADLEY_TERRY}-{stamp}-{secrets.token_hex(2)}"
    artifact_dir = Path(settings.MODEL_ARTIFACT_DIR) / name
    from training_jobs.ml.encoder import get_encoder

    try:
        model.save(
            artifact_dir,
            {
                "kind": "reward",
                "backend": "bt",
                "version": name,
                "labels": {"reward": ["preferred"]},
                "features": "reply vector, context x reply, plain features",
                "encoder": get_encoder().identity,
                "train_pairs": len(train),
                "seed": seed,
            },
        )
    except Exception:
        shutil.rmtree(artifact_dir, ignore_errors=True)
        raise
    report("saving version", 90)
    version = ModelVersion.objects.create(
        name=name,
        kind=ModelKind.REWARD,
        backend=Backend.BRADLEY_TERRY,
        artifact_path=name,
        metrics=metrics,
        train_data_hash=_pairs_hash(train),
        test_data_hash=_pairs_hash(heldout),
        train_rows=len(train),
        database_rows=len(pairs) if rows is None else 0,
        training_seconds=round(time.perf_counter() - started, 2),
        gate_passed=gate_passed,
        gate_reason=gate_reason,
        created_by=created_by,
    )
    logger.info("reward model trained version_id=%s pairs=%s", version.pk, len(pairs))
    return version


_loaded: dict[str, RewardModel] = {}


def reward_model_load(version: ModelVersion) -> RewardModel:
    """The reward model of ``version`` (cached per process by version name)."""
    if version.kind != ModelKind.REWARD:
        raise ApplicationError(f"Model version {version.name} is not a reward model.")
    model = _loaded.get(version.name)
    if model is None:
        model = RewardModel.load(version.artifact_dir)
        _loaded[version.name] = model
    return model


def active_reward_rank(user_text: str, replies) -> list[float] | None:
    """Rewards of ``replies`` to ``user_text`` under the active reward version (None without
    one): the ranker the approved backend uses with ``ARI_REWARD_RERANK``."""
    from ari_review.ttl_cache import active_model_version_key, ttl_cached
    from training_jobs.selectors import model_version_active_get

    version = ttl_cached(
        active_model_version_key(ModelKind.REWARD),
        lambda: model_version_active_get(kind=ModelKind.REWARD),
    )
    if version is None:
        return None
    model = reward_model_load(version)
    return model.score([user_text] * len(replies), list(replies)).tolist()
