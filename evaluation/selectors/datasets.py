"""The dataset browser's reads: Ari's own turns and imported texts, one keyset page at a time.

Ari's turns are user messages with their reply (the turn's care level and the risk of the
message, the intent of the reply); imported texts are the labelling items of an import (ESConv,
KakoVerse, counsel-chat...: ``WorkItem.source``), with the importer's suggestion: a labelling
item's text, or for a comparison (KakoVerse) the seeker's message and the candidate replies with
the care level the corpus gives each. Pages are keyset pages
on the primary key, newest first (``id < after`` or ``id > before``), so page 10,000 costs what
page 1 does: the plan is a backward scan of the primary key (or of ``created_at``'s index when a
date range is narrow), stopped after one page. Texts leave masked (a message's mask is stored on
it the first time a page shows it); clinician labels are read for the page's rows only (two
queries, never one per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from ari_review.privacy.stored_masks import MASK_FIELDS, masks_stored
from conversations.models import CareLevel, Intent, Message, RiskLevel
from conversations.services.masking import message_texts_masked
from evaluation.models import IntentLabel, PreferenceCandidate, SafetyLabel, WorkItem
from evaluation.selectors.masking import masked_many

_M = TypeVar("_M", bound=Model)

PAGE_SIZE = 50
ARI = "ari"
# A search first looks among this many ids next to the page's bound (``_keyset_near_first``).
SEARCH_NEAR_IDS = 20_000


@dataclass(frozen=True)
class DatasetFilters:
    source: str = ARI
    risk: str = ""
    intent: str = ""
    care: str = ""  # a CareLevel: Ari's turns only (imported corpora record none)
    since: dt.date | None = None
    until: dt.date | None = None
    search: str = ""


@dataclass
class DatasetRow:
    id: int
    created_at: dt.datetime
    source: str
    text: str
    risk: str = ""
    reply: str = ""
    intent: str = ""
    session_id: int | None = None
    care: str = ""
    # Replies of an imported comparison: [{"text", "style", "care_level"}] (KakoVerse)
    candidates: list[dict[str, object]] = field(default_factory=list)
    # {"safety": [...levels], "intent": [...]}
    labels: dict[str, list[str]] = field(default_factory=dict)
    # {"safety": item id, "intent": item id}
    items: dict[str, int | None] = field(default_factory=dict)


@dataclass
class DatasetPage:
    rows: list[DatasetRow]
    next_after: int | None  # older rows: ?after=
    prev_before: int | None  # newer rows: ?before=


def dataset_sources() -> list[str]:
    """ "ari" and every import source with items (a small, indexed distinct)."""
    imported = (
        WorkItem.objects.exclude(source="production")
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()
    )
    return [ARI, *imported]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _dates(qs: QuerySet[_M], filters: DatasetFilters) -> QuerySet[_M]:
    """Whole days, as a range on ``created_at`` (indexed; no cast of the column)."""
    if filters.since:
        qs = qs.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        qs = qs.filter(created_at__lt=_day_start(filters.until + dt.timedelta(days=1)))
    return qs


def _keyset(
    qs: QuerySet[_M],
    *,
    after: int | None,
    before: int | None,
    union: Sequence[tuple[QuerySet[_M], Sequence[str]]] = (),
    sorted_window: bool = False,
) -> tuple[list[_M], bool, bool]:
    """One page newest first; with ``before`` the page just newer than it. With ``union``
    (querysets of the same model, each with the fields equal to its key, as
    ``_keyset_near_first`` takes them), the page of the rows in any of them: each gives at most
    one page of ids, the ids are merged, and the page's rows are read from ``qs``.

    ``sorted_window``: the same page, ordered by an expression of the key that no index gives,
    so the planner reads the rows that match (a date range through ``created_at``'s index) and
    sorts them, instead of walking the primary key back until it reaches them."""
    key = (F("pk") + 0) if sorted_window else F("pk")
    if union:
        pages = [
            _keyset(u.only("id"), after=after, before=before, sorted_window=sorted_window)
            if sorted_window
            else _keyset_near_first(u.only("id"), after=after, before=before, mirrors=mirrors)
            for u, mirrors in union
        ]
        ids = {row.pk for rows, _, _ in pages for row in rows}
        newest_first = sorted(ids, reverse=True)
        if before is not None:
            newer = newest_first[-PAGE_SIZE:]
            kept, more_older, more_newer = newer, True, len(newest_first) > PAGE_SIZE
            more_newer = more_newer or any(p[2] for p in pages)
        else:
            kept, more_newer = newest_first[:PAGE_SIZE], after is not None
            more_older = len(newest_first) > PAGE_SIZE or any(p[1] for p in pages)
        by_id = {row.pk: row for row in qs.filter(pk__in=kept)}
        return [by_id[pk] for pk in kept], more_older, more_newer
    if before is not None:
        rows = list(qs.filter(pk__gt=before).order_by(key.asc())[: PAGE_SIZE + 1])
        more_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        return rows, True, more_newer
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.order_by(key.desc())[: PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, after is not None


def _keyset_near_first(
    qs: QuerySet[_M], *, after: int | None, before: int | None, mirrors: Sequence[str] = ()
) -> tuple[list[_M], bool, bool]:
    """``_keyset`` of a search, looked for first among the ``SEARCH_NEAR_IDS`` ids next to the
    page's bound. PostgreSQL's estimate of a trigram match is far too low for a word many
    messages share, so left alone it reads every match through the trigram index and sorts
    them ("sister" at 1M messages: 21,810 rows, ~200 ms); bounded, it intersects the matches with
    that id range and sorts a few hundred. A page the range does not fill (a rare word) is read
    again unbounded and sorted, where the trigram index finds its few matches wherever they are.

    ``mirrors``: fields equal to the key in every row (a reply's ``reply_to``), given the same
    range: PostgreSQL does not carry a range across a join, and without it read every reply
    matching a common word (55,000 for "week") before joining them."""
    if before is not None:
        bounds = {"gt": before, "lte": before + SEARCH_NEAR_IDS}
    else:
        edge = after
        if edge is None:
            newest = qs.model._default_manager.order_by("-pk").values_list("pk", flat=True)
            edge = (newest.first() or 0) + 1
        bounds = {"lt": edge, "gte": edge - SEARCH_NEAR_IDS}
    near = qs.filter(
        **{f"{field}__{op}": value for field in ("pk", *mirrors) for op, value in bounds.items()}
    )
    rows, more_older, more_newer = _keyset(near, after=after, before=before)
    if more_newer if before is not None else more_older:
        return rows, more_older, more_newer
    # Rare near the bound: sorted, so the plan is the trigram index's matches, not a walk back
    # along the primary key (which PostgreSQL sometimes picks: ~1 s through 1M rows for "zebra").
    return _keyset(qs, after=after, before=before, sorted_window=True)


def _window_in_past(filters: DatasetFilters) -> bool:
    """A closed date range that ends at least as many days before today as it is long: walking
    the primary key back from the newest turn would read every turn newer than the range first
    (one day two months back: 660,000 rows at 1M messages, ~460 ms), while reading the range
    through ``created_at``'s index and sorting it reads only the range (~20 ms a day). Ranges
    that reach today, or are long beside their distance, keep the walk, which stops after a
    page."""
    if filters.since is None or filters.until is None:
        return False
    days_back = (timezone.localdate() - filters.until).days
    return (filters.until - filters.since).days + 1 <= days_back


# Conditions on a turn's reply whenever a filter joins it (inner join). The reply's role lets the
# planner read the partial index message_reply_intent_idx. ``reply_to IS NOT NULL`` is implied by
# the join, but said it starts a backward scan of the reply_to index at the newest reply: without
# it the scan first reads the index's NULL entries, every user message (half the table, ~470 ms
# at 1M messages), before the first reply it can join.
_REPLY_JOINED = {"reply__role": Message.Role.ASSISTANT, "reply__reply_to__isnull": False}


def ari_turns_queries(filters: DatasetFilters) -> list[tuple[QuerySet[Message], tuple[str, ...]]]:
    """The turns matching the filters as one query, or with a search two: the turns whose
    message matches and those whose reply does. Each is paged on its own and the pages merged
    (``_keyset``): an OR across the two tables would defeat both the trigram indexes (a rare
    word) and the early stop of the newest-first scan (a common one). Each query comes with the
    fields equal to the turn's id that it joins (the reply's ``reply_to``)."""
    if not filters.search:
        return [(ari_turns_query(filters), ())]
    base = ari_turns_query(replace(filters, search=""))
    return [
        (base.filter(text__icontains=filters.search), ()),
        (
            base.filter(reply__text__icontains=filters.search, **_REPLY_JOINED),
            ("reply__reply_to_id",),
        ),
    ]


def ari_turns_query(filters: DatasetFilters) -> QuerySet[Message]:
    """The user messages (turns) matching the filters, unordered (the page orders them)."""
    qs = Message.objects.filter(role=Message.Role.USER)
    if filters.risk:
        qs = qs.filter(risk_level=filters.risk)
    if filters.care:
        qs = qs.filter(care_level=filters.care)
    if filters.intent:
        qs = qs.filter(reply__intent=filters.intent, **_REPLY_JOINED)
    if filters.search:
        qs = qs.filter(Q(text__icontains=filters.search) | Q(reply__text__icontains=filters.search))
    return _dates(qs, filters)


def _label_index(
    kind: str, *, message_ids: Collection[int] = (), item_ids: Collection[int] = ()
) -> tuple[dict[int, int], dict[int | None, list[str]]]:
    """``({message or item id: item id}, {item id: [label values]})`` for one page."""
    items = WorkItem.objects.filter(kind=kind)
    if message_ids:
        items = items.filter(message_id__in=message_ids)
    else:
        items = items.filter(pk__in=item_ids)
    item_of = {
        (message_id if message_ids else pk): pk
        for pk, message_id in items.values_list("pk", "message_id")
    }
    labels: dict[int | None, list[str]] = {}  # read with the item id, or None: no item
    model, value = (SafetyLabel, "risk_level") if kind == "safety" else (IntentLabel, "intent")
    for item_id, label in model.objects.filter(item_id__in=item_of.values()).values_list(
        "item_id", value
    ):
        labels.setdefault(item_id, []).append(label)
    return item_of, labels


_TURN_FIELDS = (
    "id",
    "created_at",
    "text",
    "text_masked",
    "text_masked_version",
    "risk_level",
    "care_level",
    "session_id",
    "reply__id",
    "reply__text",
    "reply__text_masked",
    "reply__text_masked_version",
    "reply__intent",
)


def _ari_rows(messages: list[Message]) -> list[DatasetRow]:
    """Rows for user messages read with ``select_related("reply")``: masked texts (stored on the
    messages once masked: ``message_texts_masked``), the turn's care level, risk and intent,
    clinician labels and labelling items (two queries a kind)."""
    ids = [m.pk for m in messages]
    reply_ids = [m.reply.pk for m in messages if getattr(m, "reply", None) is not None]
    safety_items, safety_labels = _label_index("safety", message_ids=ids)
    intent_items, intent_labels = _label_index("intent", message_ids=reply_ids)
    rows = []
    said: list[Message] = []
    for m in messages:
        reply = getattr(m, "reply", None)
        said += [m] if reply is None else [m, reply]
    masked_of = dict(zip(said, message_texts_masked(messages=said), strict=True))
    for m in messages:
        reply = getattr(m, "reply", None)
        safety_item = safety_items.get(m.pk)
        intent_item = intent_items.get(reply.pk) if reply is not None else None
        rows.append(
            DatasetRow(
                id=m.pk,
                created_at=m.created_at,
                source=ARI,
                text=masked_of[m],
                risk=m.risk_level,
                care=m.care_level,
                reply=masked_of[reply] if reply is not None else "",
                intent=reply.intent if reply is not None else "",
                session_id=m.session_id,
                labels={
                    "safety": safety_labels.get(safety_item, []),
                    "intent": intent_labels.get(intent_item, []),
                },
                items={"safety": safety_item, "intent": intent_item},
            )
        )
    return rows


def _ari_page(filters: DatasetFilters, *, after: int | None, before: int | None) -> DatasetPage:
    queries = ari_turns_queries(filters)
    if filters.intent and (after is not None or before is not None):
        # The same bound on the reply's side (its reply_to is the turn's id): PostgreSQL does
        # not carry an inequality across the join, and with it message_reply_intent_idx's
        # (intent, reply_to) order serves a deep page as it serves the first.
        bound = {"reply__reply_to_id__lt": after} if after is not None else {}
        if before is not None:
            bound = {"reply__reply_to_id__gt": before}
        queries = [(q.filter(**bound), mirrors) for q, mirrors in queries]
    qs = Message.objects.select_related("reply").only(*_TURN_FIELDS)
    window = _window_in_past(filters)
    if len(queries) == 1:
        messages, has_older, has_newer = _keyset(
            queries[0][0].select_related("reply").only(*_TURN_FIELDS),
            after=after,
            before=before,
            sorted_window=window,
        )
    else:
        messages, has_older, has_newer = _keyset(
            qs, after=after, before=before, union=queries, sorted_window=window
        )
    return _page(_ari_rows(messages), has_older, has_newer)


def dataset_session_turns(*, session_id: int) -> list[DatasetRow]:
    """Every turn of one of Ari's conversations, oldest first, as the browser shows a row."""
    messages = list(
        Message.objects.filter(session_id=session_id, role=Message.Role.USER)
        .select_related("reply")
        .only(*_TURN_FIELDS)
        .order_by("id")
    )
    return _ari_rows(messages)


def _page(rows: list[DatasetRow], has_older: bool, has_newer: bool) -> DatasetPage:
    return DatasetPage(
        rows=rows,
        next_after=rows[-1].id if rows and has_older else None,
        prev_before=rows[0].id if rows and has_newer else None,
    )


def _imported_page(
    filters: DatasetFilters, *, after: int | None, before: int | None
) -> DatasetPage:
    qs = WorkItem.objects.filter(source=filters.source, message__isnull=True)
    if filters.risk:
        qs = qs.filter(kind=WorkItem.Kind.SAFETY).filter(
            Q(suggestion__risk_level=filters.risk) | Q(safety_labels__risk_level=filters.risk)
        )
    if filters.intent:
        qs = qs.filter(kind=WorkItem.Kind.INTENT).filter(
            Q(suggestion__intent=filters.intent) | Q(intent_labels__intent=filters.intent)
        )
    if filters.search:
        qs = qs.filter(text__icontains=filters.search)
    qs = _dates(qs, filters).distinct()
    items, has_older, has_newer = _keyset(
        qs.only(
            "id", "created_at", "kind", "text", *MASK_FIELDS, "context", "suggestion", "source"
        ),
        after=after,
        before=before,
    )
    return _page(_imported_rows(items), has_older, has_newer)


def _turn_text(item: WorkItem) -> str:
    """An item's text; a comparison has none of its own: its turn is the seeker's last message
    in the context (what the candidate replies answer)."""
    if item.text:
        return item.text
    said = [t for t in item.context or [] if isinstance(t, dict) and t.get("role") == "user"]
    return str(said[-1].get("content") or "") if said else ""


def _imported_rows(items: list[WorkItem]) -> list[DatasetRow]:
    ids = [i.pk for i in items]
    _, safety_labels = _label_index("safety", item_ids=ids)
    _, intent_labels = _label_index("intent", item_ids=ids)
    compared = [i.pk for i in items if i.kind == WorkItem.Kind.PREFERENCE]
    candidates: dict[int, list[PreferenceCandidate]] = {}
    if compared:
        for c in PreferenceCandidate.objects.filter(item_id__in=compared).order_by("position"):
            candidates.setdefault(c.item_id, []).append(c)
    # An item's own text: its stored mask (the import's batch task); a comparison's turn (from
    # its context) and candidates: through the cache.
    own = [item for item in items if item.text]
    masked_of = dict(zip([i.pk for i in own], masks_stored(own), strict=True))
    texts = [_turn_text(item) for item in items if not item.text]
    texts += [c.text for item in items for c in candidates.get(item.pk, [])]
    masked = iter(masked_many(texts))
    turn_texts = [masked_of[item.pk] if item.text else next(masked) for item in items]
    rows = []
    for item, text in zip(items, turn_texts, strict=True):
        suggestion = item.suggestion or {}
        safety = item.kind == WorkItem.Kind.SAFETY
        rows.append(
            DatasetRow(
                id=item.pk,
                created_at=item.created_at,
                source=item.source,
                text=text,
                risk=str(suggestion.get("risk_level") or "") if safety else "",
                intent=str(suggestion.get("intent") or "") if item.kind == "intent" else "",
                candidates=[
                    {
                        "text": next(masked),
                        "style": str((c.meta or {}).get("style") or ""),
                        "care_level": (c.meta or {}).get("care_level"),
                    }
                    for c in candidates.get(item.pk, [])
                ],
                labels={
                    "safety": safety_labels.get(item.pk, []),
                    "intent": intent_labels.get(item.pk, []),
                },
                items={"safety" if safety else item.kind: item.pk},
            )
        )
    return rows


def dataset_item_turns(*, item_id: int) -> tuple[list[dict[str, str]], DatasetRow] | None:
    """An imported item read as a conversation: its context (masked, oldest first) and its turn
    as the browser shows the row; None when no such imported item exists."""
    item = (
        WorkItem.objects.filter(pk=item_id, message__isnull=True)
        .exclude(source="production")
        .first()
    )
    if item is None:
        return None
    row = _imported_rows([item])[0]
    context = [t for t in item.context or [] if isinstance(t, dict)]
    if item.kind == WorkItem.Kind.PREFERENCE and context and context[-1].get("role") == "user":
        context = context[:-1]  # the row's own text
    masked = masked_many([str(t.get("content") or "") for t in context])
    turns = [
        {"role": "user" if t.get("role") == "user" else "assistant", "text": text}
        for t, text in zip(context, masked, strict=True)
    ]
    return turns, row


def dataset_page(
    filters: DatasetFilters, *, after: int | None = None, before: int | None = None
) -> DatasetPage:
    if filters.risk and filters.risk not in RiskLevel.values:
        raise ValueError("unknown risk level")
    if filters.intent and filters.intent not in Intent.values:
        raise ValueError("unknown intent")
    if filters.care and filters.care not in CareLevel.values:
        raise ValueError("unknown care level")
    if filters.source == ARI:
        return _ari_page(filters, after=after, before=before)
    return _imported_page(filters, after=after, before=before)
