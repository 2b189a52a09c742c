"""An optional second opinion on messages in the possible-risk band, from a guard model.

When ``ARI_SAFETY_JUDGE_URL`` is set (an OpenAI-compatible server ending in ``/v1``: a guard
model served by vLLM, Ollama or llama.cpp), a message the safety model put in its
possible-risk band (above the ``possible`` threshold, below ``high``) is sent to the judge with
the user's last turns. Its one-word verdict decides the level within that band:

- ``high`` raises the message to the emergency flow;
- ``medium`` keeps the gentle safety question;
- ``low`` / ``none`` lets an ordinary reply through.

On a timeout (``ARI_SAFETY_JUDGE_TIMEOUT_MS``, default 2000, no retries), an error or an answer
that is not one of those words, the cautious level (medium) stands. The judge never sees a
message the model or the risk signals already sent to the emergency flow, and never lowers one.
Only ids and the verdict are logged, never the text. Unless ``ARI_SAFETY_JUDGE_TRUSTED`` (default
``ARI_LLM_TRUSTED``) is on, the judge gets the user's messages masked (docs/privacy.md); the
user turn carries them all, the system prompt is the fixed instruction below.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings

from conversations.backends.base import RiskAssessment

logger = logging.getLogger(__name__)

VERDICTS = ("high", "medium", "low", "none")
SYSTEM_PROMPT = (
    "You are a safety classifier for a mental-health coaching chat. Read the user's latest "
    "message (and their earlier messages, if given) and answer with exactly one word:\n"
    "high: current suicidal intent, a plan, means at hand, an attempt or self-harm happening or "
    "imminent, intent to seriously harm a specific person, or an acute emergency now;\n"
    "medium: passive wishes to be dead, hopelessness, self-harm urges or recent minor "
    "self-injury, without intent, plan or means;\n"
    "low: distress without any risk sign;\n"
    "none: no distress, including everyday uses of words like kill, die, end or cut.\n"
    "Answer with one word: high, medium, low or none."
)
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class JudgeOutcome:
    verdict: str  # one of VERDICTS, or "" when the judge gave none
    reason: str  # "ok", or why the cautious level stood (timeout, http_500, unparsable...)
    ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "ms": self.ms}


def judge_enabled() -> bool:
    return bool(getattr(settings, "ARI_SAFETY_JUDGE_URL", ""))


def in_band(assessment: RiskAssessment, possible: float | None, high: float | None) -> bool:
    """A message the model put in its possible-risk band, which no risk signal raised to high."""
    if possible is None or high is None or assessment.level == "high":
        return False
    return possible <= assessment.score < high


def ask_judge(text: str, history: Sequence[str] = ()) -> JudgeOutcome:
    """The guard model's verdict on ``text``; an empty verdict with the reason on failure."""
    from conversations.backends.generation import GenerationError
    from conversations.backends.generation.openai_compat import OpenAICompatibleGenerator

    started = time.perf_counter()
    earlier = "\n".join(f"- {turn}" for turn in history) or "(none)"
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Earlier messages:\n{earlier}\n\nLatest message:\n{text}"},
    ]
    try:
        client = OpenAICompatibleGenerator(
            base_url=settings.ARI_SAFETY_JUDGE_URL,
            model=settings.ARI_SAFETY_JUDGE_MODEL,
            api_key=settings.ARI_SAFETY_JUDGE_API_KEY,
            timeout=settings.ARI_SAFETY_JUDGE_TIMEOUT,
            max_retries=0,
            stream=False,
            max_tokens=5,
            trusted=settings.ARI_SAFETY_JUDGE_TRUSTED,
        )
        answer, _ = client.complete(messages, temperature=0.0)
    except GenerationError as exc:
        return JudgeOutcome("", exc.reason, _ms(started))
    words = _WORD.findall(answer.lower())
    verdict = words[0] if words and words[0] in VERDICTS else ""
    return JudgeOutcome(verdict, "ok" if verdict else "unparsable", _ms(started))


def judged(assessment: RiskAssessment, outcome: JudgeOutcome) -> RiskAssessment:
    """The assessment after the judge: its verdict within the band, the cautious level without
    one. Raising to high keeps the model's category (or suicidal ideation when it had none)."""
    if outcome.verdict == "high":
        return replace(
            assessment,
            level="high",
            category=assessment.category or "suicidal_ideation",
            urgency="high",
        )
    if outcome.verdict in ("low", "none"):
        return replace(assessment, level=outcome.verdict, urgency=outcome.verdict)
    return assessment  # "medium", or no verdict: the cautious band level stands


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 2)
