"""The exemplar bank: example messages per risk family, matched by sentence similarity.

Every user turn stores its nearest exemplar (``Message.risk_reason``), which reviewers see as
the reason for the decision beside the score and the risk signals. Clinicians add a labelled
message to the bank in one action (its masked text; audited). The index (exemplar vectors from
the MiniLM sentence encoder) is cached like the rest of the chat configuration.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction

from ari_review.api.errors import ApplicationError
from ari_review.audit import audit_event_record
from ari_review.ttl_cache import ttl_cache_invalidate, ttl_cached
from conversations.models import Message, RiskExemplar, RiskLevel
from training_jobs.ml.labels import FAMILIES, LANGS

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
CACHE_KEY = "risk_exemplars"
SHIPPED_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "risk_exemplars.jsonl"


@dataclass(frozen=True)
class _Index:
    ids: tuple[int, ...]
    meta: tuple[tuple[str, str], ...]  # (family, risk_level) per exemplar
    vectors: np.ndarray


def _encode(texts: list[str]) -> np.ndarray:
    from training_jobs.ml.encoder import get_encoder
    from training_jobs.ml.text import clean

    return get_encoder().encode([clean(t) for t in texts])


def _load_index() -> _Index | None:
    rows = list(
        RiskExemplar.objects.filter(is_active=True).values_list(
            "id", "text", "family", "risk_level"
        )
    )
    if not rows:
        return None
    return _Index(
        ids=tuple(r[0] for r in rows),
        meta=tuple((r[2], r[3]) for r in rows),
        vectors=_encode([r[1] for r in rows]),
    )


def exemplar_nearest(text: str) -> dict[str, Any]:
    """``{"id", "family", "risk_level", "similarity"}`` of the nearest active exemplar, or
    ``{}`` when the bank is empty or the encoder cannot run here (the screen goes on)."""
    try:
        index = ttl_cached(CACHE_KEY, _load_index)
        if index is None:
            return {}
        similarities = index.vectors @ _encode([text])[0]
    except Exception:  # noqa: BLE001 - a reason for reviewers must never break the screen
        logger.exception("exemplar match failed")
        return {}
    best = int(np.argmax(similarities))
    family, level = index.meta[best]
    return {
        "id": index.ids[best],
        "family": family,
        "risk_level": level,
        "similarity": round(float(similarities[best]), 4),
    }


def _check(risk_level: str, family: str) -> None:
    if risk_level not in RiskLevel.values:
        raise ApplicationError(f"Risk level must be one of: {', '.join(RiskLevel.values)}.")
    if family not in FAMILIES[risk_level]:
        raise ApplicationError(
            f"Family {family!r} is not a {risk_level} family; choose one of: "
            f"{', '.join(sorted(FAMILIES[risk_level]))}."
        )


def exemplar_add_from_message(
    *, user: User, message: Message, risk_level: str, family: str, lang: str = "en"
) -> RiskExemplar:
    """One action: a labelled user message becomes an exemplar (masked text), audited."""
    from ari_review.privacy.masking import mask_text

    _check(risk_level, family)
    if lang not in LANGS:
        raise ApplicationError(f"Language must be one of: {', '.join(LANGS)}.")
    if message.role != Message.Role.USER:
        raise ApplicationError("Only a user's message can be an exemplar of a risk family.")
    text = mask_text(message.text).strip()
    if RiskExemplar.objects.filter(text=text).exists():
        raise ApplicationError("This message is already in the exemplar bank.")
    with transaction.atomic():
        exemplar = RiskExemplar.objects.create(
            text=text,
            risk_level=risk_level,
            family=family,
            lang=lang,
            source=RiskExemplar.Source.WORKSPACE,
            added_by=user,
            from_message=message,
        )
        audit_event_record(
            actor=user,
            action="risk_exemplar.add",
            obj=exemplar,
            after={"message_id": message.pk, "risk_level": risk_level, "family": family},
        )
        ttl_cache_invalidate(CACHE_KEY)
    return exemplar


def exemplars_load_shipped(path: Path = SHIPPED_FILE) -> int:
    """Load the shipped exemplars (idempotent: a text already in the bank is skipped)."""
    created = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            _check(row["risk_level"], row["family"])
        except ApplicationError as exc:
            raise ApplicationError(f"{path.name}:{number}: {exc.message}") from None
        _, made = RiskExemplar.objects.get_or_create(
            text=row["text"],
            defaults={
                "risk_level": row["risk_level"],
                "family": row["family"],
                "lang": row.get("lang", "en"),
                "source": RiskExemplar.Source.SHIPPED,
            },
        )
        created += made
    if created:
        ttl_cache_invalidate(CACHE_KEY)
    return created
