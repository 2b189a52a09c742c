"""An optional ranker of candidate replies, registered by a higher floor.

The chat runtime does not know reward models. The training app registers a function here in its
``AppConfig.ready`` (the active ``reward`` model version scores each reply to the user's
message); with ``ARI_REWARD_RERANK`` on, the approved backend asks it to choose among its best
few candidates. Without a registered ranker, or when it returns None (no active reward version),
the approved backend chooses as it always has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

logger = logging.getLogger(__name__)

# (user text, candidate replies) -> one score per reply, or None (nothing to rank with).
Ranker = Callable[[str, Sequence[str]], "list[float] | None"]
_ranker: Ranker | None = None


def reply_ranker_register(ranker: Ranker | None) -> None:
    global _ranker
    _ranker = ranker


def reply_rank(user_text: str, replies: Sequence[str]) -> list[float] | None:
    """Scores of ``replies`` (higher is better), or None when no ranker can score them. A
    failing ranker never fails the turn: it is logged and ignored."""
    if _ranker is None or len(replies) < 2:
        return None
    try:
        scores = _ranker(user_text, replies)
    except Exception:
        logger.exception("reply ranker failed; choosing without it")
        return None
    if scores is None or len(scores) != len(replies):
        return None
    return [float(s) for s in scores]
