"""Reads of the clinician workspace: queues, item details (masked, pseudonymous), progress,
dialogues, agreement, disagreements, audit, metrics.

Conversations are read here in read-only queries (sessions, messages, escalations). Every list
loads what it shows with a fixed number of queries (no N+1); tests assert the counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone

from ari_review.models import AuditEvent
from ari_review.privacy.masking import mask_messages, mask_text, pseudonym
from conversations.models import ChatSession, Escalation, Message, RiskExemplar, RiskLevel
from evaluation.agreement import cohen_kappa, cohen_kappa_per_class, krippendorff_alpha_nominal
from evaluation.label_sets import LABEL_MODEL_BY_KIND, LABEL_SETS, LabelSet, normalise_value
from evaluation.metrics_catalogue import METRIC_ORDER
from evaluation.models import (
    Adjudication,
    MetricValue,
    PreferenceCandidate,
    SeedDialogue,
    WorkItem,
    WorkLock,
)

Kind = WorkItem.Kind
DISTRESS_LEVELS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)


# --- Seed dialogues for the chat runtime ---------------------------------------------------------


def approved_dialogues_list():
    """Approved seed dialogues, the only text the ``approved`` chat backend may use."""
    return SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED).order_by("id")


# --- Queues ---------------------------------------------------------------------------------------


def queue_items_list(*, kind: str, clinician, now: dt.datetime | None = None):
    """Open items of a queue in priority order, with lock state and, for sessions, whether an
    escalation is open and how many messages there are."""
    now = now or timezone.now()
    active_locks = (
        WorkLock.objects.filter(item=OuterRef("pk"), expires_at__gt=now)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = (
        WorkItem.objects.filter(kind=kind, status=WorkItem.Status.OPEN)
        .annotate(
            active_locks=Coalesce(Subquery(active_locks, output_field=IntegerField()), 0),
            locked_by_me=Exists(
                WorkLock.objects.filter(
                    item=OuterRef("pk"), clinician=clinician, expires_at__gt=now
                )
            ),
            done_by_me=Exists(
                LABEL_MODEL_BY_KIND[kind].objects.filter(item=OuterRef("pk"), clinician=clinician)
            ),
        )
        .order_by("priority", "id")
    )
    if kind == Kind.REVIEW:
        message_count = (
            Message.objects.filter(session=OuterRef("session_id"))
            .order_by()
            .values("session")
            .annotate(n=Count("id"))
            .values("n")
        )
        qs = qs.select_related("session").annotate(
            escalation_open=Exists(
                Escalation.objects.filter(
                    session=OuterRef("session_id"), status=Escalation.Status.OPEN
                )
            ),
            message_count=Coalesce(Subquery(message_count, output_field=IntegerField()), 0),
        )
    elif kind in (Kind.SAFETY, Kind.INTENT):
        qs = qs.select_related("message")
    return qs


@dataclass(frozen=True)
class Progress:
    done_today: int
    remaining: int


def work_progress(*, kind: str, clinician) -> Progress:
    """Items the clinician completed today, and open items still waiting for them."""
    model = LABEL_MODEL_BY_KIND[kind]
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    done_today = model.objects.filter(clinician=clinician, created_at__gte=start)
    if kind == Kind.SAFETY:
        done_today = done_today.filter(item__kind=Kind.SAFETY)
    remaining = (
        WorkItem.objects.filter(kind=kind, status=WorkItem.Status.OPEN)
        .exclude(Exists(model.objects.filter(item=OuterRef("pk"), clinician=clinician)))
        .count()
    )
    return Progress(done_today=done_today.count(), remaining=remaining)


def work_item_get(*, item_id: int, kind: str | None = None) -> WorkItem | None:
    qs = WorkItem.objects.select_related("session", "message")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.filter(pk=item_id).first()


def work_lock_of(*, item: WorkItem, clinician) -> WorkLock | None:
    return WorkLock.objects.filter(
        item=item, clinician=clinician, expires_at__gt=timezone.now()
    ).first()


# --- Item details ---------------------------------------------------------------------------------


@dataclass
class Turn:
    id: int
    role: str
    text: str
    created_at: dt.datetime
    risk_level: str = ""
    risk_category: str = ""
    risk_score: float | None = None
    risk_urgency: str = ""
    intent: str = ""
    intent_score: float | None = None
    filter_hits: list = field(default_factory=list)
    model_versions: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    latency_ms: dict = field(default_factory=dict)
    emergency: bool = False
    reply_to_id: int | None = None
    distressed: bool = False  # an Ari reply to a message expressing distress
    rule_hits: list = field(default_factory=list)  # risk signals that fired (entry ids)
    exemplar: dict = field(default_factory=dict)  # the nearest exemplar, with its text


@dataclass
class EscalationView:
    id: int
    status: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    message_id: int
    # How far the on-call e-mails got (conversations.models.NotificationStatus), and its label.
    notification_status: str = ""
    notification_label: str = ""


@dataclass
class ReviewItemView:
    item: WorkItem
    user: str
    session: ChatSession
    turns: list[Turn]
    escalations: list[EscalationView]
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def _turn(message: Message, levels: dict[int, str], exemplars: dict[int, str]) -> Turn:
    exemplar = dict((message.risk_reason or {}).get("exemplar") or {})
    if exemplar:
        exemplar["text"] = exemplars.get(exemplar.get("id"), "")
    return Turn(
        id=message.pk,
        role=message.role,
        text=mask_text(message.text),
        created_at=message.created_at,
        risk_level=message.risk_level,
        risk_category=message.risk_category,
        risk_score=message.risk_score,
        risk_urgency=message.risk_urgency,
        intent=message.intent,
        intent_score=message.intent_score,
        filter_hits=message.filter_hits or [],
        model_versions=message.model_versions or {},
        provenance=message.provenance or {},
        latency_ms=message.latency_ms or {},
        emergency=message.emergency,
        reply_to_id=message.reply_to_id,
        distressed=message.role == Message.Role.ASSISTANT
        and levels.get(message.reply_to_id or -1, "") in DISTRESS_LEVELS,
        rule_hits=list(message.safety_rule_hits or []),
        exemplar=exemplar,
    )


def review_item_detail(*, item: WorkItem, clinician) -> ReviewItemView:
    """A session to rate: masked transcript with per-turn metadata, escalations, my lock."""
    session = item.session
    messages = list(
        Message.objects.filter(session_id=session.pk)
        .order_by("created_at", "id")
        .only(
            "id",
            "role",
            "text",
            "created_at",
            "risk_level",
            "risk_category",
            "risk_score",
            "risk_urgency",
            "intent",
            "intent_score",
            "filter_hits",
            "model_versions",
            "provenance",
            "latency_ms",
            "emergency",
            "reply_to_id",
            "session_id",
            "safety_rule_hits",
            "risk_reason",
        )
    )
    levels = {m.pk: m.risk_level for m in messages if m.role == Message.Role.USER}
    exemplar_ids = {
        (m.risk_reason or {}).get("exemplar", {}).get("id") for m in messages if m.risk_reason
    }
    exemplars = dict(
        RiskExemplar.objects.filter(pk__in=exemplar_ids - {None}).values_list("pk", "text")
        if exemplar_ids - {None}
        else []
    )
    escalations = [
        EscalationView(
            e.pk,
            e.status,
            e.created_at,
            e.closed_at,
            e.message_id,
            e.notification_status,
            e.get_notification_status_display() if e.notification_status else "",
        )
        for e in Escalation.objects.filter(session_id=session.pk).order_by("created_at")
    ]
    lock = work_lock_of(item=item, clinician=clinician)
    done = LABEL_MODEL_BY_KIND[Kind.REVIEW].objects.filter(item=item, clinician=clinician).exists()
    return ReviewItemView(
        item=item,
        user=pseudonym(session.user_id),
        session=session,
        turns=[_turn(m, levels, exemplars) for m in messages],
        escalations=escalations,
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )


@dataclass
class LabelItemView:
    item: WorkItem
    text: str
    role: str
    context: list[dict]
    suggestion: dict | None
    user: str
    source: str
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def label_item_detail(*, item: WorkItem, clinician, blind: bool) -> LabelItemView:
    """A message to label (safety or intent) with a little context; the model's suggestion is
    left out when labelling blind."""
    if item.message_id is not None:
        message = item.message
        text = message.text
        role = message.role
        earlier = list(
            Message.objects.filter(
                session_id=message.session_id, created_at__lte=message.created_at
            )
            .exclude(pk=message.pk)
            .order_by("-created_at", "-id")
            .values("role", "text")[:4]
        )
        context = [{"role": m["role"], "content": m["text"]} for m in reversed(earlier)]
        user = pseudonym(
            ChatSession.objects.filter(pk=message.session_id)
            .values_list("user_id", flat=True)
            .first()
        )
    else:
        text, role, context, user = item.text, item.text_role, item.context or [], "imported"
    lock = work_lock_of(item=item, clinician=clinician)
    done = LABEL_MODEL_BY_KIND[item.kind].objects.filter(item=item, clinician=clinician).exists()
    return LabelItemView(
        item=item,
        text=mask_text(text),
        role=role,
        context=mask_messages(context),
        suggestion=None if blind else (item.suggestion or None),
        user=user,
        source=item.source,
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )


@dataclass
class CandidateView:
    id: int
    letter: str
    text: str


@dataclass
class PreferenceItemView:
    item: WorkItem
    context: list[dict]
    candidates: list[CandidateView]
    lock_expires_at: dt.datetime | None
    done_by_me: bool


def preference_item_detail(*, item: WorkItem, clinician) -> PreferenceItemView:
    """Candidates blind (no style or generator) in this clinician's random order."""
    from evaluation.services.preferences import candidate_display_order

    candidates = {c.pk: c for c in PreferenceCandidate.objects.filter(item=item).only("id", "text")}
    order = candidate_display_order(item=item, clinician=clinician, candidate_ids=list(candidates))
    lock = work_lock_of(item=item, clinician=clinician)
    done = (
        LABEL_MODEL_BY_KIND[Kind.PREFERENCE].objects.filter(item=item, clinician=clinician).exists()
    )
    return PreferenceItemView(
        item=item,
        context=mask_messages(item.context or []),
        candidates=[
            CandidateView(cid, "ABC"[i], mask_text(candidates[cid].text))
            for i, cid in enumerate(order)
        ],
        lock_expires_at=lock.expires_at if lock else None,
        done_by_me=done,
    )


# --- Seed dialogues -------------------------------------------------------------------------------


def dialogue_list(*, state: str | None = None, search: str = ""):
    """Originals (newest edit first) with their paraphrase variants prefetched."""
    qs = SeedDialogue.objects.filter(variant_of__isnull=True)
    if state:
        qs = qs.filter(Q(state=state) | Q(variants__state=state)).distinct()
    if search:
        qs = qs.filter(title__icontains=search)
    return (
        qs.select_related("reviewer")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=SeedDialogue.objects.select_related("reviewer").order_by("id"),
            )
        )
        .order_by("-updated_at", "-id")
    )


def dialogue_state_counts() -> dict[str, int]:
    agg = SeedDialogue.objects.aggregate(
        **{s: Count("id", filter=Q(state=s)) for s in SeedDialogue.State.values}
    )
    return agg


def dialogue_get(*, dialogue_id: int) -> SeedDialogue | None:
    return (
        SeedDialogue.objects.select_related("reviewer", "created_by", "variant_of")
        .prefetch_related(Prefetch("variants", queryset=SeedDialogue.objects.order_by("id")))
        .filter(pk=dialogue_id)
        .first()
    )


# --- Agreement ------------------------------------------------------------------------------------


def _label_units(specs: list[LabelSet]) -> dict[str, list[tuple[list[int], list[str], str]]]:
    """For label sets of one label model: every double-labelled item's clinicians and values in
    labelling order, and the month ("YYYY-MM") of its second label. One query per model
    (PostgreSQL groups the labels itself)."""
    first = specs[0]
    qs = first.model.objects.filter(item__reviews_done__gte=2, item__kind=first.kind)
    if first.kind == Kind.SAFETY:
        qs = qs.filter(item__text_role="user")
    stamp = ExtractYear("created_at") * 100 + ExtractMonth("created_at")
    fields = [spec.field for spec in specs]
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        aggregates = {
            "clinicians": ArrayAgg("clinician_id", order_by="id"),
            "stamps": ArrayAgg(stamp, order_by="id"),
            **{f"raw{i}": ArrayAgg(field, order_by="id") for i, field in enumerate(fields)},
        }
        grouped = qs.values("item_id").annotate(**aggregates).order_by().values_list(*aggregates)
    else:
        by_item: dict[int, list] = defaultdict(lambda: [[] for _ in range(2 + len(fields))])
        for item_id, clinician_id, value_stamp, *raws in (
            qs.annotate(stamp=stamp)
            .order_by("id")
            .values_list("item_id", "clinician_id", "stamp", *fields)
        ):
            entry = by_item[item_id]
            entry[0].append(clinician_id)
            entry[1].append(value_stamp)
            for i, raw in enumerate(raws):
                entry[2 + i].append(raw)
        grouped = by_item.values()
    units: dict[str, list] = {spec.key: [] for spec in specs}
    for clinicians, stamps, *raws in grouped:
        if len(clinicians) < 2:
            continue
        second = int(stamps[1])
        month = f"{second // 100:04d}-{second % 100:02d}"
        for spec, raw in zip(specs, raws, strict=True):
            units[spec.key].append((clinicians, [normalise_value(spec, r) for r in raw], month))
    return units


def _fmt(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _agreement(spec: LabelSet, units: list, names: dict[int, str]) -> dict:
    pairs, months, by_pair = [], defaultdict(list), defaultdict(list)
    month_units = defaultdict(list)
    more_than_two = 0
    for clinicians, values, month in units:
        month_units[month].append(values)
        if len(values) == 2:
            pair = (values[0], values[1])
            pairs.append(pair)
            months[month].append(pair)
            a, b = clinicians
            by_pair[(a, b) if a < b else (b, a)].append(pair if a < b else (pair[1], pair[0]))
        else:
            more_than_two += 1
            for (ca, va), (cb, vb) in combinations(sorted(zip(clinicians, values, strict=True)), 2):
                by_pair[(ca, cb)].append((va, vb))
    return {
        "label_set": spec.key,
        "title": spec.title,
        "items": len(units),
        "items_more_than_two_raters": more_than_two,
        "kappa": _fmt(cohen_kappa(pairs)),
        "alpha": _fmt(krippendorff_alpha_nominal([values for _, values, _ in units])),
        "per_class": [
            {"value": value or "(none)", "kappa": _fmt(k)}
            for value, k in cohen_kappa_per_class(pairs).items()
        ],
        "per_pair": sorted(
            (
                {
                    "clinicians": [names.get(a, str(a)), names.get(b, str(b))],
                    "items": len(p),
                    "kappa": _fmt(cohen_kappa(p)),
                }
                for (a, b), p in by_pair.items()
            ),
            key=lambda row: (-row["items"], row["clinicians"]),
        ),
        "over_time": [
            {
                "month": month,
                "items": len(month_units[month]),
                "kappa": _fmt(cohen_kappa(months.get(month, []))),
                "alpha": _fmt(krippendorff_alpha_nominal(month_units[month])),
            }
            for month in sorted(month_units)
        ],
    }


def agreement_compute_many(label_sets: list[str]) -> dict[str, dict]:
    """Kappa (first vs second label of items with two labels), per-class kappa, Krippendorff's
    alpha over all raters, per clinician pair and per month, for each label set."""
    by_model: dict[type, list[LabelSet]] = defaultdict(list)
    for key in label_sets:
        by_model[LABEL_SETS[key].model].append(LABEL_SETS[key])
    units: dict[str, list] = {}
    for specs in by_model.values():
        units.update(_label_units(specs))
    clinician_ids = {c for rows in units.values() for clinicians, _, _ in rows for c in clinicians}
    names = dict(
        get_user_model().objects.filter(pk__in=clinician_ids).values_list("pk", "username")
    )
    return {key: _agreement(LABEL_SETS[key], units[key], names) for key in label_sets}


def agreement_compute(label_set: str) -> dict:
    return agreement_compute_many([label_set])[label_set]


# Agreement moves slowly: the figures are cached and refreshed every 15 minutes by the
# ``agreement_refresh_task`` beat job, so pages read them without recomputing.
AGREEMENT_CACHE_SECONDS = 30 * 60


def _agreement_key(label_set: str) -> str:
    return f"evaluation:agreement:{label_set}"


def agreement_summaries(*, label_sets: list[str], use_cache: bool = True) -> list[dict]:
    """Agreement figures from the cache; missing ones are computed (together) and stored."""
    cached = cache.get_many([_agreement_key(k) for k in label_sets]) if use_cache else {}
    missing = [k for k in label_sets if _agreement_key(k) not in cached]
    if missing:
        now = timezone.now().isoformat()
        fresh = {
            _agreement_key(k): {**result, "computed_at": now}
            for k, result in agreement_compute_many(missing).items()
        }
        cache.set_many(fresh, AGREEMENT_CACHE_SECONDS)
        cached.update(fresh)
    return [cached[_agreement_key(k)] for k in label_sets]


def agreement_summary(*, label_set: str, use_cache: bool = True) -> dict:
    return agreement_summaries(label_sets=[label_set], use_cache=use_cache)[0]


def agreement_cache_refresh() -> list[str]:
    """Recompute every label set's agreement into the cache (the beat job calls this)."""
    agreement_summaries(label_sets=list(LABEL_SETS), use_cache=False)
    return list(LABEL_SETS)


@dataclass
class Disagreement:
    item: WorkItem
    label_set: LabelSet
    labels: list[tuple[str, str]]  # (clinician username, value)
    preview: str


def disagreements_list(*, label_set: str | None = None, limit: int = 50) -> list[Disagreement]:
    """Items whose clinicians disagree and that no senior clinician has decided yet."""
    specs = [LABEL_SETS[label_set]] if label_set else list(LABEL_SETS.values())
    wanted: list[tuple[int, LabelSet]] = []
    for spec in specs:
        value = spec.field
        if spec.key == "preference.choice":
            value = Coalesce(spec.field, Value(-1))
        rows = (
            spec.model.objects.filter(item__reviews_done__gte=2, item__kind=spec.kind)
            .exclude(item__adjudications__label_set=spec.key)
            .values("item_id")
            .annotate(distinct_values=Count(value, distinct=True))
            .filter(distinct_values__gt=1)
            .order_by("item_id")
            .values_list("item_id", flat=True)[:limit]
        )
        wanted += [(item_id, spec) for item_id in rows]
    wanted = wanted[:limit]
    if not wanted:
        return []
    ids = {item_id for item_id, _ in wanted}
    items = WorkItem.objects.select_related("message", "session").in_bulk(ids)
    labels: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for spec in {s.key: s for _, s in wanted}.values():
        for item_id, username, raw in (
            spec.model.objects.filter(item_id__in=ids)
            .order_by("created_at")
            .values_list("item_id", "clinician__username", spec.field)
        ):
            labels[(item_id, spec.key)].append((username, normalise_value(spec, raw)))
    out = []
    for item_id, spec in wanted:
        item = items[item_id]
        if item.message_id:
            preview = item.message.text
        elif item.kind == Kind.REVIEW:
            preview = f"Session of {pseudonym(item.session.user_id)}"
        else:
            preview = item.text or (item.context[-1]["content"] if item.context else "")
        out.append(Disagreement(item, spec, labels[(item_id, spec.key)], mask_text(preview)[:300]))
    return out


def adjudications_list(*, limit: int = 50):
    return Adjudication.objects.select_related("decided_by", "item").order_by("-created_at")[:limit]


# --- Audit ----------------------------------------------------------------------------------------


def audit_events_list(*, action: str = "", actor: str = "", object_type: str = ""):
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_name=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs.order_by("-created_at", "-id")


# --- Metrics --------------------------------------------------------------------------------------


def metric_values_list(*, days: int = 30, name: str = ""):
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    qs = MetricValue.objects.filter(day__gte=since)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("name", "model_version", "rollout_arm", "day")


def metric_series(*, days: int = 30) -> dict[str, dict[str, list[tuple[dt.date, float | None]]]]:
    """{metric: {series label: [(day, value)]}}: "all", each model version and each arm."""
    series: dict[str, dict[str, list]] = {name: defaultdict(list) for name in METRIC_ORDER}
    for name, version, arm, day, value in metric_values_list(days=days).values_list(
        "name", "model_version", "rollout_arm", "day", "value"
    ):
        if name not in series:
            continue
        label = (
            "all" if not (version or arm) else (f"version {version}" if version else f"arm {arm}")
        )
        series[name][label].append((day, value))
    return {name: dict(s) for name, s in series.items()}
