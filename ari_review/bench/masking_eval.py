"""Precision and recall of masking on a labelled set of messages (the command
``bench_pii_masking`` prints and saves it; a test asserts its floors).

Rules, per gold type and per predicted kind:

- a gold span is *recalled* when every letter and digit in it is inside a masked span, of
  whatever kind ("John [name]" half-masked is a miss; "[place]" over a street is a hit);
- a masked span is *correct* when it overlaps a gold span of any type; masking what the set
  does not label (a hard negative such as "Mother's Day") makes it a false positive.

Recall is what privacy needs (nothing left readable), precision what reviewers need (text they
can still read). ``typed_recall`` also asks the mask to be of the gold type.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from ari_review.privacy.language import language_detect
from ari_review.privacy.masking import mask_messages, pii_spans
from ari_review.privacy.ner import ner_status

DATA = Path(__file__).resolve().parents[2] / "tests" / "evaluation" / "data" / "pii_messages.jsonl"
GOLD_KIND = {
    "NAME": "name",
    "ADDRESS": "address",
    "PLACE": "place",
    "DATE": "date",
    "AGE": "age",
    "ORG": "org",
    "EMAIL": "email",
    "PHONE": "phone",
}


def messages_load(path: Path = DATA) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def masking_evaluate(rows: list[dict]) -> dict:
    """Score masking on ``rows`` ({"id", "lang", "text", "spans": [{type, start, end}]})."""
    start = time.perf_counter()
    pii_spans("warm up: my brother John")  # loads the NER layer once
    load_s = time.perf_counter() - start

    # type -> gold, recalled, typed; (lang, type) -> gold, recalled; kind -> predicted, correct
    gold_counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    lang_counts: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    kind_counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, false_positives, detected_language, latencies = [], [], 0, []
    for row in rows:
        text = row["text"]
        began = time.perf_counter()
        predicted = pii_spans(text)
        latencies.append((time.perf_counter() - began) * 1000)
        detected_language += language_detect(text) == row["lang"]
        covered: set[int] = set()
        for span in predicted:
            covered.update(range(span.start, span.end))
        for gold in row["spans"]:
            needed = [i for i in range(gold["start"], gold["end"]) if text[i].isalnum()]
            hit = all(i in covered for i in needed)
            typed = hit and any(
                s.kind == GOLD_KIND[gold["type"]]
                and s.start < gold["end"]
                and gold["start"] < s.end
                for s in predicted
            )
            counts = gold_counts[gold["type"]]
            counts[0] += 1
            counts[1] += hit
            counts[2] += typed
            lang_counts[(row["lang"], gold["type"])][0] += 1
            lang_counts[(row["lang"], gold["type"])][1] += hit
            if not hit:
                misses.append({"id": row["id"], "type": gold["type"], "text": gold["text"]})
        for span in predicted:
            correct = any(span.start < g["end"] and g["start"] < span.end for g in row["spans"])
            kind_counts[span.kind][0] += 1
            kind_counts[span.kind][1] += correct
            if not correct:
                false_positives.append(
                    {"id": row["id"], "kind": span.kind, "text": text[span.start : span.end]}
                )

    transcript = [{"role": "user", "content": row["text"]} for row in rows]
    began = time.perf_counter()
    mask_messages(transcript)
    transcript_ms = (time.perf_counter() - began) * 1000

    gold_total = sum(c[0] for c in gold_counts.values())
    predicted_total = sum(c[0] for c in kind_counts.values())
    return {
        "messages": len(rows),
        "messages_without_pii": sum(1 for row in rows if not row["spans"]),
        "by_type": {
            t: {
                "gold": c[0],
                "recall": _ratio(c[1], c[0]),
                "typed_recall": _ratio(c[2], c[0]),
            }
            for t, c in sorted(gold_counts.items())
        },
        "by_kind": {
            k: {"masked": c[0], "precision": _ratio(c[1], c[0])}
            for k, c in sorted(kind_counts.items())
        },
        "overall": {
            "gold": gold_total,
            "recall": _ratio(sum(c[1] for c in gold_counts.values()), gold_total),
            "masked": predicted_total,
            "precision": _ratio(sum(c[1] for c in kind_counts.values()), predicted_total),
        },
        "by_language": {
            lang: {
                t: _ratio(c[1], c[0]) for (lg, t), c in sorted(lang_counts.items()) if lg == lang
            }
            for lang in sorted({lg for lg, _ in lang_counts})
        },
        "language_detected_right": _ratio(detected_language, len(rows)),
        "latency_ms": {
            "median": round(statistics.median(latencies), 2),
            "p95": round(_percentile(latencies, 0.95), 2),
            "max": round(max(latencies), 2),
            "first_load_s": round(load_s, 2),
            "transcript_of_all_messages": round(transcript_ms, 1),
        },
        "ner": ner_status(),
        "misses": misses,
        "false_positives": false_positives,
    }
