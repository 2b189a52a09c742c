"""Everyday and distressed Reddit comments from GoEmotions as safety rows (none / low).

    python -m training_jobs.datasets.goemotions_safety   # writes safety/goemotions-everyday.jsonl

The project's own everyday and distress rows were written by its writers, in the registers they
imagined; the safety screen then flagged a quarter of real help-seekers' ordinary chat turns as
high risk (ESConv, docs/safety-classifier-status.md). GoEmotions comments (Apache-2.0, shipped in
``goemotions/``) are text nobody on the project wrote. A comment becomes a training row only when
no risk word of any family appears in it (``RISK_WORDS``: the taxonomy's high and medium
families and every risky word family of its hard negatives, broadly): such a comment cannot be
high or medium by the taxonomy. A comment labelled with a distress emotion is ``low``
(``distress``), any other ``none`` (``everyday``). Only the train split is read (dev and test stay
the emotion model's measurement). Deterministic: the same rows every run.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
GOEMOTIONS = DATA_DIR / "goemotions"
OUTPUT = DATA_DIR / "safety" / "goemotions-everyday.jsonl"
SOURCE = "goemotions-everyday"
PER_LEVEL = 4000
SEED = 20261206
MIN_CHARS, MAX_CHARS = 20, 300
DISTRESS = {"sadness", "grief", "fear", "nervousness", "remorse", "embarrassment", "disappointment"}

# Any of these stems anywhere in a comment keeps it out (word starts, case-insensitive).
RISK_WORDS = re.compile(
    r"\b(suicid|kill|die\b|dies\b|died|dying|dead|death|deadly|murder|end (it|my|this|things|"
    r"everything|myself)|ending it|hurt|harm|pain|cut|cutting|razor|blade|knife|knives|gun|shoot|"
    r"shot|bullet|weapon|hang|hanging|rope|noose|jump|bridge|ledge|roof|cliff|overdos|\bod\b|pill|"
    r"meds|medication|poison|bleach|drown|burn|bleed|blood|scar|wrist|attack|abuse|assault|rape|"
    r"violen|beat|punch|strangl|choke|stab|hopeless|worthless|useless|burden|no (point|way out|"
    r"reason|one cares)|pointless|give up|giving up|gave up|can'?t (go on|take|cope|do this|"
    r"anymore)|tired of|exhausted|alone|lonely|empty|numb|unreal|disappear|not wake|wake up|"
    r"sleep|insomnia|goodbye|farewell|last (time|day|night)|done with|finished|over it|"
    r"escape|drunk|drink|alcohol|drug|high\b|weed|smok|vodka|wine|beer|hospital|emergency|"
    r"psych|crazy|insane|lose control|losing control|rage|revenge|hate (my|me|him|her|them)|"
    r"destroy|ruin|wreck|starv|purge|vomit|throw up|eating|anorex|bulimi|trigger|therap|"
    r"depress|anxiety|panic|mental|bipolar|schizo|voices|hell|damn|god|pray|heaven|grave|"
    r"funeral|cancer|sick|ill\b|disease|poor|broke|debt|homeless|katana|sword)",
    re.IGNORECASE,
)


def comment_rows() -> list[dict]:
    labels = (GOEMOTIONS / "labels.txt").read_text(encoding="utf-8").split()
    by_level: dict[str, list[dict]] = {"low": [], "none": []}
    seen: set[str] = set()
    for line in (GOEMOTIONS / "train.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, comment_id = line.split("\t")
        text = " ".join(text.split())
        key = text.lower()
        # "[NAME]" and "[RELIGION]" are the corpus's masks: no user writes them.
        if not MIN_CHARS <= len(text) <= MAX_CHARS or key in seen or "[" in text:
            continue
        if RISK_WORDS.search(text):
            continue
        seen.add(key)
        emotions = {labels[int(i)] for i in ids.split(",")}
        level = "low" if emotions & DISTRESS else "none"
        by_level[level].append(
            {
                "text": text,
                "history": [],
                "risk_level": level,
                "category": "crisis" if level == "low" else "",
                "family": "distress" if level == "low" else "everyday",
                "lang": "en",
                "source": SOURCE,
                "group": f"goemotions-{comment_id}",
                "tags": ["goemotions", "natural", *sorted(emotions)],
            }
        )
    rng = random.Random(SEED)
    rows = []
    for level in ("low", "none"):
        pool = by_level[level]
        rows.extend(rng.sample(pool, min(PER_LEVEL, len(pool))))
    return rows


def main() -> None:
    rows = comment_rows()
    OUTPUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    counts = {level: sum(r["risk_level"] == level for r in rows) for level in ("low", "none")}
    print(f"wrote {OUTPUT.relative_to(DATA_DIR)}: {len(rows)} rows {counts}")


if __name__ == "__main__":
    main()
