"""The ``approved`` backend: replies are only ever taken from clinician-approved content.

Every approved seed dialogue contributes its (user turn -> Ari's reply) pairs, tagged with the
dialogue's session type and flow step. For a new message the backend keeps the pairs of the
session's current step, ranks them by TF-IDF similarity between the new message and each
pair's user turn (word and character n-grams, so typos still match), prefers the user's tone,
shorter replies for short sessions and replies not yet used in the session, and returns the best
reply verbatim. Dialogues tagged ``template`` are generic flow templates used when nothing
specific is similar enough.

The summary of the user's previous session (``previous_summary``) only ever changes *which*
approved reply is chosen, never its words, and only on the session's first reply (no assistant
turn in the history yet): dialogues tagged ``returning`` (which welcome the person back without
claiming anything specific) get a bonus, and the summary's themes weigh lightly in the
similarity. Without a summary, and on every later reply, ``returning`` dialogues get a penalty
larger than any score, so a first-time user is never welcomed back while anything else is
approved for the step. The reply's details record ``used_previous_summary`` when it counted.

The index is built once per process and rebuilt when the approved set changes (its key is the
count, id sum and newest ``updated_at`` of the approved dialogues: one small query, cached
in-process for ``ARI_CONFIG_CACHE_SECONDS``; approving or editing a dialogue through the
evaluation services clears it at once).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, QuerySet, Sum
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ari_review.ttl_cache import APPROVED_INDEX_KEY, ttl_cached
from conversations.backends.base import GenerationRequest
from conversations.backends.generation import Generated, GenerationError
from conversations.backends.ranking import reply_rank
from training_jobs.ml.linear import compile_tfidf

logger = logging.getLogger(__name__)

TEMPLATE_TAG = "template"
RETURNING_TAG = "returning"
MIN_SIMILARITY = 0.22
_TOKEN_PATTERN = r"(?u)\b\w[\w']*\b"  # noqa: S105
USED_PENALTY = 1.0
TONE_BONUS = 0.03
LONG_REPLY_PENALTY = 0.02
# First reply of a returning user: enough to prefer a welcome back over templates and weak
# matches, not over a reply that clearly answers what the user just said (validate first).
RETURNING_BONUS = 0.3
# No previous summary, or not the first reply: larger than any score can be.
RETURNING_PENALTY = 10.0
# Weight of the previous session's themes in the first reply's similarity.
SUMMARY_WEIGHT = 0.2
# ARI_REWARD_RERANK: candidates the reward model may choose among must match the message within
# this much of the best match's similarity score.
RERANK_MARGIN = 0.05
_THEMES_RX = re.compile(r"Themes:\s*([^.]+)\.")


class ApprovedDialogue(Protocol):
    """What this backend reads of an approved seed dialogue (evaluation.models.SeedDialogue,
    a floor above: not imported here)."""

    pk: Any
    messages: Any  # [{"role", "content"}, ...]
    tags: Any
    session_type: Any
    flow_step: Any


@dataclass(frozen=True)
class Pair:
    dialogue_id: int
    turn_index: int
    session_type: str
    flow_step: str
    user_text: str
    reply: str
    tags: frozenset[str]
    sentences: int

    @property
    def is_template(self) -> bool:
        return TEMPLATE_TAG in self.tags

    @property
    def is_returning(self) -> bool:
        return RETURNING_TAG in self.tags


def _sentences(text: str) -> int:
    return max(1, len(re.findall(r"[.!?]+(?:\s|$)", text.strip())))


def dialogue_pairs(dialogue: ApprovedDialogue) -> list[Pair]:
    """(user turn, the assistant reply that follows it) pairs of one dialogue."""
    pairs = []
    messages = dialogue.messages or []
    tags = frozenset(str(t).lower() for t in (dialogue.tags or []))
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant" or index == 0:
            continue
        previous = messages[index - 1]
        if not isinstance(previous, dict) or previous.get("role") != "user":
            continue
        reply = str(message.get("content") or "").strip()
        user_text = str(previous.get("content") or "").strip()
        if reply and user_text:
            pairs.append(
                Pair(
                    dialogue_id=dialogue.pk,
                    turn_index=index,
                    session_type=dialogue.session_type or "",
                    # a whole-session dialogue names the step of each reply
                    flow_step=message.get("flow_step") or dialogue.flow_step or "",
                    user_text=user_text,
                    reply=reply,
                    tags=tags,
                    sentences=_sentences(reply),
                )
            )
    return pairs


@dataclass(frozen=True)
class _Candidates:
    """What :meth:`ApprovedIndex.choose` needs for one (session type, step), worked out once."""

    indexes: list[int]
    match: str
    words: sparse.csr_matrix  # the candidates' rows of the word and character matrices
    chars: sparse.csr_matrix
    # Positions in ``indexes`` of the specific pairs, the templates and the "returning" pairs
    # (a "returning" pair is in neither of the other two).
    specific: list[int]
    templates: list[int]
    returning: np.ndarray


class ApprovedIndex:
    def __init__(self, key: str, pairs: list[Pair]) -> None:
        self.key = key
        self.pairs = pairs
        self._by_step: dict[tuple[str, str], list[int]] = {}
        self._candidates: dict[tuple[str, str], _Candidates] = {}
        for i, pair in enumerate(pairs):
            self._by_step.setdefault((pair.session_type, pair.flow_step), []).append(i)
        if pairs:
            texts = [p.user_text for p in pairs]
            self._words = TfidfVectorizer(
                ngram_range=(1, 2), sublinear_tf=True, token_pattern=_TOKEN_PATTERN
            ).fit(texts)
            self._chars = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
            ).fit(texts)
            self._word_matrix = self._words.transform(texts).tocsr()
            self._char_matrix = self._chars.transform(texts).tocsr()
            # A new message is vectorised through look-up tables (scikit-learn's transform
            # costs far more per call than the arithmetic).
            self._words_compiled = compile_tfidf(self._words)
            self._chars_compiled = compile_tfidf(self._chars)

    def candidates(self, session_type: str, step: str) -> tuple[list[int], str]:
        """Pair indexes for the step, widening the search only when nothing fits."""
        exact = self._by_step.get((session_type, step), []) + self._by_step.get(("", step), [])
        if exact:
            return exact, "step"
        same_step = [i for (t, s), ids in self._by_step.items() if s == step for i in ids]
        if same_step:
            return same_step, "step_other_type"
        same_type = [i for (t, s), ids in self._by_step.items() if t == session_type for i in ids]
        if same_type:
            return same_type, "session_type"
        return list(range(len(self.pairs))), "any"

    def _candidates_for(self, session_type: str, step: str) -> _Candidates:
        found = self._candidates.get((session_type, step))
        if found is None:
            indexes, match = self.candidates(session_type, step)
            pairs = [self.pairs[i] for i in indexes]
            found = _Candidates(
                indexes=indexes,
                match=match,
                words=self._word_matrix[indexes],
                chars=self._char_matrix[indexes],
                specific=[
                    k for k, p in enumerate(pairs) if not p.is_template and not p.is_returning
                ],
                templates=[k for k, p in enumerate(pairs) if p.is_template and not p.is_returning],
                returning=np.array([k for k, p in enumerate(pairs) if p.is_returning], dtype=int),
            )
            self._candidates[(session_type, step)] = found  # same value from any thread
        return found

    def _similarity(self, found: _Candidates, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` to each candidate's user turn, with word and character
        n-grams weighing half each."""
        words = found.words @ self._words_compiled.dense(text)
        chars = found.chars @ self._chars_compiled.dense(text)
        return np.asarray((words + chars) * 0.5).ravel()

    def _reranked(
        self,
        request: GenerationRequest,
        found: _Candidates,
        pool: list[int],
        scores: np.ndarray,
        best: int,
    ) -> int:
        """With ``ARI_REWARD_RERANK``: the reward model's pick among the best few candidates
        (``ARI_REWARD_RERANK_TOP``, each within ``RERANK_MARGIN`` of the best match), so a
        reply that fits the message less well is never chosen for style alone."""
        ranked = sorted(pool, key=lambda k: (-scores[k], found.indexes[k]))
        top = [
            k
            for k in ranked[: settings.ARI_REWARD_RERANK_TOP]
            if scores[k] >= scores[best] - RERANK_MARGIN
        ]
        rewards = reply_rank(request.user_text, [self.pairs[found.indexes[k]].reply for k in top])
        if rewards is None:
            return best
        return top[max(range(len(top)), key=lambda i: (rewards[i], -i))]

    def choose(self, request: GenerationRequest) -> tuple[Pair, float, str, bool]:
        """The best pair, its similarity to the user's text, how it was matched, and whether
        the previous session's summary counted."""
        found = self._candidates_for(request.session_type, request.flow_step)
        indexes, match = found.indexes, found.match
        similarity = self._similarity(found, request.user_text)
        used = {text.strip() for role, text in request.history if role == "assistant"}
        welcome = bool(request.previous_summary.strip()) and not used
        prefs = request.preferences or {}
        tone = f"tone:{prefs.get('tone', '')}"
        short = prefs.get("session_length") == "short"
        scores = similarity.copy()
        if welcome:
            themes = _THEMES_RX.search(request.previous_summary)
            summary = themes.group(1) if themes else request.previous_summary
            scores = (1 - SUMMARY_WEIGHT) * scores + SUMMARY_WEIGHT * self._similarity(
                found, summary
            )
        if found.returning.size:
            scores[found.returning] += RETURNING_BONUS if welcome else -RETURNING_PENALTY
        for k, i in enumerate(indexes):
            pair = self.pairs[i]
            if pair.reply in used:
                scores[k] -= USED_PENALTY
            if tone in pair.tags:
                scores[k] += TONE_BONUS
            if short:
                scores[k] -= LONG_REPLY_PENALTY * max(0, pair.sentences - 2)
        specific, templates = found.specific, found.templates
        pool = specific or templates
        if templates and specific and max(similarity[k] for k in specific) < MIN_SIMILARITY:
            pool = templates
            match = f"{match}_template"
        # "returning" pairs compete with the pool; the penalty keeps them out unless welcome
        # (or unless nothing else is approved for the step).
        pool = [*pool, *found.returning.tolist()]
        best = max(pool, key=lambda k: (scores[k], -indexes[k]))
        if settings.ARI_REWARD_RERANK:
            best = self._reranked(request, found, pool, scores, best)
        pair = self.pairs[indexes[best]]
        if pair.is_returning:
            match = f"{found.match}_returning"
        return pair, float(similarity[best]), match, welcome


_index_lock = threading.Lock()
_index: ApprovedIndex | None = None


def _approved_queryset() -> QuerySet[Any]:
    from evaluation.selectors import approved_dialogues_list

    return approved_dialogues_list()


def approved_index_key(queryset: QuerySet[Any] | None = None) -> str:
    queryset = _approved_queryset() if queryset is None else queryset
    stats = queryset.order_by().aggregate(n=Count("id"), ids=Sum("id"), newest=Max("updated_at"))
    newest = stats["newest"].isoformat() if stats["newest"] else "-"
    raw = f"{stats['n']}:{stats['ids'] or 0}:{newest}"
    return f"{stats['n']}-{hashlib.sha1(raw.encode()).hexdigest()[:10]}"  # noqa: S324


def approved_index_get() -> ApprovedIndex:
    """The cached index, rebuilt when the approved dialogues changed."""
    global _index
    queryset = _approved_queryset()
    key = ttl_cached(APPROVED_INDEX_KEY, lambda: approved_index_key(queryset))
    index = _index
    if index is not None and index.key == key:
        return index
    with _index_lock:
        if _index is not None and _index.key == key:
            return _index
        pairs = [pair for dialogue in queryset.order_by("id") for pair in dialogue_pairs(dialogue)]
        _index = ApprovedIndex(key, pairs)
        logger.info("approved index built key=%s pairs=%s", key, len(pairs))
        return _index


class ApprovedContentGenerator:
    name = "approved"

    def generate(self, request: GenerationRequest) -> Generated:
        index = approved_index_get()
        if not index.pairs:
            raise GenerationError("no_approved_content", "There are no approved dialogues.")
        pair, similarity, match, used_summary = index.choose(request)
        details = {
            "dialogue_id": pair.dialogue_id,
            "turn_index": pair.turn_index,
            "flow_step": pair.flow_step,
            "similarity": round(similarity, 4),
            "match": match,
        }
        if used_summary:
            details["used_previous_summary"] = True
        return Generated(
            text=pair.reply,
            backend=self.name,
            model=f"approved-index:{index.key}",
            source_dialogue_id=pair.dialogue_id,
            details=details,
        )
