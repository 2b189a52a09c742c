"""Found personal details as character spans, and the masking that replaces them."""

from __future__ import annotations

from dataclasses import dataclass

# What each kind of span becomes in masked text.
PLACEHOLDERS = {
    "email": "[email]",
    "url": "[url]",
    "address": "[address]",
    "date": "[date]",
    "phone": "[phone]",
    "age": "[age]",
    "org": "[org]",
    "name": "[name]",
    "place": "[place]",
    "masked": "[masked]",  # the conservative fallback: a capitalised word of unknown kind
}
# When spans overlap they are merged into one, named after the first kind in this order.
_PRIORITY = {kind: rank for rank, kind in enumerate(PLACEHOLDERS)}


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str
    source: str = "pattern"  # "pattern", "ner" or "fallback": which layer found it


def spans_merge(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Overlapping or touching spans become one span covering them all (nothing half-masked)."""
    merged: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.end <= span.start:
            continue
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=_PRIORITY.__getitem__)
            source = last.source if kind == last.kind else span.source
            merged[-1] = PiiSpan(last.start, max(last.end, span.end), kind, source)
        else:
            merged.append(span)
    return merged


def spans_apply(text: str, spans: list[PiiSpan]) -> str:
    """``text`` with every span replaced by its kind's placeholder."""
    out, pos = [], 0
    for span in spans_merge(spans):
        out.append(text[pos : span.start])
        out.append(PLACEHOLDERS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
