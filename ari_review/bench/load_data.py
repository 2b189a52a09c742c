"""Fill a (separate!) PostgreSQL database with realistic volume for the workspace benchmark:
100,000 chat sessions and 1,000,000 messages by default, plus queues, labels, ratings, seed
dialogues, comparisons, audit events and metrics.

Sessions and messages go in through PostgreSQL COPY in batches (every model field the command
does not set gets its model default, so new columns of the chat runtime do not break it); the
rest uses bulk_create. Text is drawn from short templates written for this purpose: distress is
expressed, never any method detail. Messages carry their masked text, as the task after a
production chat turn stores it (``conversations.services.masking``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ari_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ari_bench python manage.py generate_load_data
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from ari_review.models import AuditEvent
from ari_review.privacy.masking import MASKING_VERSION
from ari_review.privacy.stored_masks import texts_masked
from ari_review.roles import roles_sync
from ari_review.services import user_upsert
from conversations.models import ChatSession, Escalation, Intent, Message
from evaluation.models import (
    CandidateScore,
    IntentLabel,
    PreferenceCandidate,
    PreferenceJudgement,
    ReplyAssessment,
    SafetyLabel,
    SeedDialogue,
    SessionRating,
    WorkItem,
)
from evaluation.services import (
    label_queue_refresh,
    metrics_compute,
    review_queue_refresh,
)

USER_TEXTS = {
    "none": [
        "I had a pretty okay day today, just wanted to check in.",
        "Work was busy but manageable.",
        "I'd like to try a short breathing exercise.",
        "Can we talk about how I procrastinate?",
        "I went for a walk and it helped a bit.",
        "My weekend was quiet.",
    ],
    "low": [
        "I've been feeling a bit down this week.",
        "I keep worrying that I'm not good enough at my job.",
        "I had an argument with my sister and I can't stop replaying it.",
        "I feel lonely in the evenings.",
        "Everything feels a bit heavy lately.",
    ],
    "medium": [
        "I feel like nothing I do matters anymore.",
        "I've been crying a lot and I don't really know why.",
        "Some days I just want to disappear for a while.",
        "I feel hopeless about things getting better.",
    ],
    "high": [
        "I don't want to be alive anymore.",
        "I keep thinking everyone would be better off without me.",
        "I've been thinking about ending my life.",
        "I don't think I can keep myself safe tonight.",
    ],
}
REPLY_TEXTS = [
    ("validate", "That sounds really heavy, and it makes sense that you feel this way."),
    ("probe_story", "Would you be open to telling me a little more about what happened?"),
    ("probe_root", "When you notice that thought, what does it say about you?"),
    ("reframe", "What would you say to a friend who felt the same way?"),
    ("suggest_experiment", "Would you like to try one small experiment this week?"),
    ("offer_mindfulness", "Shall we take three slow breaths together before we go on?"),
    ("safety_check", "I want to check in: are you safe right now?"),
    ("close", "Thank you for sharing today. I'm here whenever you want to talk again."),
    ("other", "I hear you."),
]
SAFETY_MODE_REPLY = ("safety_check", "I'm still here with you. Are you safe right now?")
EMERGENCY_TEXT = (
    "I'm really glad you told me. Your safety matters. Are you safe right now? If you are in "
    "the US you can call or text 988 (Suicide & Crisis Lifeline) or text HOME to 741741."
)


def _copy(model: type[models.Model], rows: list[dict]) -> None:
    """COPY ``rows`` into ``model``'s table; fields not given get the model's default."""
    from psycopg.types.json import Jsonb

    fields = list(model._meta.concrete_fields)
    columns = [cast(str, f.column) for f in fields]  # a concrete field has a column
    static_defaults = {}
    for f in fields:
        if f.has_default() and not callable(f.default):
            static_defaults[f.attname] = f.default
    table = model._meta.db_table
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # noqa: S608 (model metadata)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for f in fields:
                if f.attname in row:
                    value = row[f.attname]
                elif f.attname in static_defaults:
                    value = static_defaults[f.attname]
                elif f.has_default():
                    value = f.get_default()
                elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value = timezone.now()
                else:
                    value = None if f.null else f.get_default()
                if isinstance(f, models.JSONField) and value is not None:
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)


def _reset_sequence(model: type[models.Model]) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(m=models.Max("id"))["m"] or 0) + 1


class Command(BaseCommand):
    help = "Generate benchmark volume (100k sessions / 1M messages by default) in PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=5_000)
        parser.add_argument("--clinicians", type=int, default=8)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--batch", type=int, default=10_000, help="Sessions per COPY batch.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--imported", type=int, default=20_000, help="Imported safety texts (a corpus)."
        )
        parser.add_argument(
            "--append", action="store_true", help="Add to a database that already has sessions."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (exit 0) when the database already has sessions.",
        )

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("generate_load_data needs PostgreSQL (it uses COPY).")
        if o["if_empty"] and ChatSession.objects.exists():
            self.stdout.write("Database already has chat sessions; nothing generated.")
            return
        if ChatSession.objects.exists() and not o["append"]:
            raise CommandError(
                "This database already has chat sessions. Use a separate database "
                "(DATABASE_URL=.../ari_bench) or pass --append."
            )
        self.rng = random.Random(o["seed"])
        self.now = timezone.now()
        started = time.monotonic()
        per_session = max(2, round(o["messages"] / max(1, o["sessions"])))
        self.step("users", lambda: self.make_users(o["users"], o["clinicians"]))
        self.step(
            "sessions and messages",
            lambda: self.make_conversations(o["sessions"], per_session, o["days"], o["batch"]),
        )
        self.step("analyze", self.analyze)
        self.step("queues", self.make_queues)
        self.step("labels, ratings and comparisons", self.make_labels)
        self.step("imported texts", lambda: self.make_imported(o["imported"]))
        self.step("seed dialogues", self.make_dialogues)
        self.step("audit events", self.make_audit)
        self.step("analyze", self.analyze)
        self.step("metrics (30 days)", self.make_metrics)
        counts = {
            "sessions": ChatSession.objects.count(),
            "messages": Message.objects.count(),
            "work_items": WorkItem.objects.count(),
            "labels": SafetyLabel.objects.count() + IntentLabel.objects.count(),
            "ratings": SessionRating.objects.count(),
            "dialogues": SeedDialogue.objects.count(),
            "audit_events": AuditEvent.objects.count(),
        }
        self.stdout.write(f"Done in {time.monotonic() - started:.0f} s: {counts}")

    def step(self, name, func):
        started = time.monotonic()
        func()
        self.stdout.write(f"  {name}: {time.monotonic() - started:.1f} s")

    def analyze(self):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # --- people ----------------------------------------------------------------------------

    def make_users(self, n_users: int, n_clinicians: int):
        groups = roles_sync()
        User = get_user_model()
        password = make_password(None)
        start = _next_id(User)
        users = [
            User(id=start + i, username=f"load_user_{start + i}", password=password)
            for i in range(n_users)
        ]
        User.objects.bulk_create(users, batch_size=5000)
        _reset_sequence(User)
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=u.id, group_id=groups["enduser"].id) for u in users], batch_size=5000
        )
        self.user_ids = [u.id for u in users]
        self.clinicians = [
            user_upsert(username=f"bench_clinician_{i + 1}", role="clinician").user
            for i in range(n_clinicians)
        ]
        self.admin = user_upsert(username="bench_admin", role="admin").user

    # --- conversations -------------------------------------------------------------------------

    def _level(self) -> str:
        r = self.rng.random()
        return "high" if r < 0.004 else "medium" if r < 0.03 else "low" if r < 0.25 else "none"

    def make_conversations(self, n_sessions: int, per_session: int, days: int, batch: int):
        rng = self.rng
        session_id = _next_id(ChatSession)
        message_id = _next_id(Message)
        turns = per_session // 2
        # Production masks each turn's texts when they are stored (the task after the chat turn):
        # generated messages carry the same masks (each template masked once).
        masks = texts_masked(
            [
                *(text for texts in USER_TEXTS.values() for text in texts),
                *(text for _, text in REPLY_TEXTS),
                SAFETY_MODE_REPLY[1],
                EMERGENCY_TEXT,
            ]
        )
        self.high_sessions: list[tuple[int, int, datetime]] = []  # (session, message, created)
        # Ids grow with time, as in production (keyset pages and date ranges rely on it).
        offsets = sorted((rng.uniform(0, days * 86400) for _ in range(n_sessions)), reverse=True)
        done = 0
        while done < n_sessions:
            size = min(batch, n_sessions - done)
            sessions, messages = [], []
            for offset in offsets[done : done + size]:
                created = self.now - timedelta(seconds=offset)
                arm = "canary" if rng.random() < 0.1 else "stable"
                generator = "ari-gen-v2" if arm == "canary" else "ari-gen-v1"
                safety_version = "safety-v2" if arm == "canary" else "safety-v1"
                max_level, min_conf, emergency_turn = "none", 1.0, None
                order = ["none", "low", "medium", "high"]
                in_safety_mode = False
                for t in range(turns):
                    level = self._level()
                    score = {
                        "none": rng.betavariate(1, 12),
                        "low": rng.betavariate(2, 8),
                        "medium": rng.betavariate(4, 5),
                        "high": rng.betavariate(9, 2),
                    }[level]
                    min_conf = min(min_conf, max(score, 1 - score))
                    if order.index(level) > order.index(max_level):
                        max_level = level
                    at = created + timedelta(seconds=30 * t)
                    user_mid = message_id
                    said = rng.choice(USER_TEXTS[level])
                    messages.append(
                        {
                            "id": user_mid,
                            "session_id": session_id,
                            "role": "user",
                            "text": said,
                            "text_masked": masks[said],
                            "text_masked_version": MASKING_VERSION,
                            "created_at": at,
                            "risk_level": level,
                            "risk_category": "suicidal_ideation" if level == "high" else "",
                            "risk_score": round(score, 4),
                            "risk_urgency": "high" if level == "high" else "none",
                            "care_level": (
                                "safety_check"
                                if in_safety_mode
                                else "crisis"
                                if level == "high"
                                else "check_in"
                                if level == "medium"
                                else "support"
                            ),
                        }
                    )
                    emergency = level == "high" and not in_safety_mode
                    if in_safety_mode:  # after the crisis response: safety-check mode's answer
                        intent, reply = SAFETY_MODE_REPLY
                    elif emergency:
                        intent, reply = "emergency", EMERGENCY_TEXT
                    else:
                        intent, reply = rng.choice(REPLY_TEXTS)
                    latency = {
                        "safety": rng.randint(3, 12),
                        "generate": int(rng.lognormvariate(5.5, 0.6)),
                        "intent": rng.randint(2, 8),
                    }
                    latency["total"] = sum(latency.values())
                    messages.append(
                        {
                            "id": user_mid + 1,
                            "session_id": session_id,
                            "role": "assistant",
                            "text": reply,
                            "text_masked": masks[reply],
                            "text_masked_version": MASKING_VERSION,
                            "reply_to_id": user_mid,
                            "created_at": at + timedelta(milliseconds=latency["total"]),
                            "emergency": emergency,
                            "intent": intent,
                            "intent_score": None if emergency else round(rng.uniform(0.3, 0.99), 3),
                            "filter_hits": [],
                            "latency_ms": latency,
                            "model_versions": {
                                "safety": safety_version,
                                "intent": "intent-v1",
                                "generator": generator,
                            },
                            "provenance": {
                                "backend": "fixed",
                                "kind": "emergency" if emergency else "safety_mode",
                            }
                            if emergency or in_safety_mode
                            else {"backend": "approved", "dialogue_id": rng.randint(1, 60)}
                            if rng.random() > 0.005
                            else {"backend": "approved", "fallback_reason": "timeout"},
                        }
                    )
                    message_id += 2
                    if emergency and emergency_turn is None:
                        emergency_turn = user_mid
                        in_safety_mode = True
                ended = created < self.now - timedelta(hours=2)
                sessions.append(
                    {
                        "id": session_id,
                        "public_id": uuid.UUID(int=rng.getrandbits(128)),
                        "user_id": rng.choice(self.user_ids),
                        "session_type": rng.choice(["check_in", "gentle_deep", "micro_practice"]),
                        "status": "ended" if ended else "open",
                        "flagged": max_level == "high",
                        "safety_mode": max_level == "high" and not ended,
                        "max_risk_level": max_level,
                        "min_safety_confidence": round(min_conf, 4),
                        "rating_stars": rng.choice([None, None, 3, 4, 4, 5, 5, 2]),
                        "rollout_arm": arm,
                        "created_at": created,
                        "ended_at": created + timedelta(minutes=turns) if ended else None,
                    }
                )
                if emergency_turn is not None:
                    self.high_sessions.append((session_id, emergency_turn, created))
                session_id += 1
            with transaction.atomic():
                _copy(ChatSession, sessions)
                _copy(Message, messages)
            done += size
            self.stdout.write(f"    {done:,} sessions, {message_id - 1:,} message ids")
        _reset_sequence(ChatSession)
        _reset_sequence(Message)
        escalations = [
            Escalation(
                session_id=sid,
                message_id=mid,
                status="open" if created > self.now - timedelta(days=2) else "closed",
                closed_at=None
                if created > self.now - timedelta(days=2)
                else created + timedelta(hours=3),
                closed_by=None if created > self.now - timedelta(days=2) else self.clinicians[0],
            )
            for sid, mid, created in self.high_sessions
        ]
        Escalation.objects.bulk_create(escalations, batch_size=2000)

    # --- workspace -----------------------------------------------------------------------------

    def make_queues(self):
        counts = review_queue_refresh(now=self.now)
        safety = label_queue_refresh(kind="safety")
        intent = label_queue_refresh(kind="intent")
        self.stdout.write(f"    review {counts}, safety {safety}, intent {intent}")

    def _pair(self):
        return self.rng.sample(self.clinicians, 2)

    def make_labels(self):
        rng = self.rng
        # Done safety items (production messages), each labelled twice.
        queued = WorkItem.objects.filter(message=models.OuterRef("pk"))
        user_messages = list(
            Message.objects.filter(role="user")
            .exclude(models.Exists(queued))
            .order_by("?")
            .values_list("id", "risk_level", "risk_category")[:4000]
        )
        safety_items = WorkItem.objects.bulk_create(
            [
                WorkItem(
                    kind="safety",
                    reason="uncertain",
                    priority=0.5,
                    required_reviews=2,
                    reviews_done=2,
                    status="done",
                    message_id=mid,
                    source="production",
                    suggestion={"risk_level": level},
                    completed_at=self.now,
                )
                for mid, level, _ in user_messages
            ],
            batch_size=2000,
        )
        levels = ["none", "low", "medium", "high"]
        labels = []
        for item, (_mid, level, _cat) in zip(safety_items, user_messages, strict=True):
            if item.pk is None:
                continue
            for clinician in self._pair():
                value = level if rng.random() < 0.85 else rng.choice(levels)
                labels.append(
                    SafetyLabel(
                        item_id=item.pk,
                        clinician=clinician,
                        risk_level=value,
                        category="suicidal_ideation" if value in ("medium", "high") else "",
                        urgency="high" if value == "high" else "none",
                    )
                )
        SafetyLabel.objects.bulk_create(labels, batch_size=5000)
        # Done intent items, each labelled twice.
        replies = list(
            Message.objects.filter(role="assistant", emergency=False)
            .exclude(models.Exists(queued))
            .order_by("?")
            .values_list("id", "intent")[:2500]
        )
        intent_items = WorkItem.objects.bulk_create(
            [
                WorkItem(
                    kind="intent",
                    reason="uncertain",
                    priority=0.5,
                    required_reviews=2,
                    reviews_done=2,
                    status="done",
                    message_id=mid,
                    source="production",
                    text_role="assistant",
                    suggestion={"intent": intent},
                    completed_at=self.now,
                )
                for mid, intent in replies
            ],
            batch_size=2000,
        )
        intent_labels = [
            IntentLabel(
                item_id=item.pk,
                clinician=c,
                intent=intent if rng.random() < 0.8 else rng.choice(Intent.values),
            )
            for item, (_, intent) in zip(intent_items, replies, strict=True)
            if item.pk
            for c in self._pair()
        ]
        IntentLabel.objects.bulk_create(intent_labels, batch_size=5000)
        # Session ratings on 2,000 queued sessions (review items marked done).
        review_items = list(WorkItem.objects.filter(kind="review").order_by("id")[:2000])
        ratings = []
        choices = ["harmful", "inappropriate", "appropriate", "appropriate", "excellent"]
        for item in review_items:
            if item.session_id is None:
                raise CommandError(f"review item {item.pk} has no session")
            for clinician in self._pair()[: item.required_reviews]:
                ratings.append(
                    SessionRating(
                        item=item,
                        session_id=item.session_id,
                        clinician=clinician,
                        appropriateness=rng.choice(choices),
                    )
                )
        SessionRating.objects.bulk_create(ratings, batch_size=5000)
        WorkItem.objects.filter(pk__in=[i.pk for i in review_items]).update(
            reviews_done=models.F("required_reviews"), status="done", completed_at=self.now
        )
        reply_ids = dict(
            Message.objects.filter(
                role="assistant", session_id__in=[i.session_id for i in review_items]
            ).values_list("session_id", "id")
        )
        ReplyAssessment.objects.bulk_create(
            [
                ReplyAssessment(
                    rating=r,
                    message_id=reply_ids[r.session_id],
                    flags=["too_long"] if rng.random() < 0.1 else [],
                    validated=rng.random() < 0.92,
                )
                for r in ratings
                if r.session_id in reply_ids
            ],
            batch_size=5000,
        )
        # Preference comparisons: 600 items with three candidates; half judged twice.
        items = WorkItem.objects.bulk_create(
            [
                WorkItem(
                    kind="preference",
                    reason="imported",
                    priority=0.5,
                    required_reviews=2,
                    context=[{"role": "user", "content": rng.choice(USER_TEXTS["low"])}],
                    source="load",
                    external_id=f"load-{i}",
                )
                for i in range(600)
            ],
            batch_size=1000,
        )
        candidates = PreferenceCandidate.objects.bulk_create(
            [
                PreferenceCandidate(
                    item=item,
                    position=p,
                    text=REPLY_TEXTS[p][1],
                    meta={"style": ["baseline", "empathetic", "cold"][p]},
                )
                for item in items
                for p in range(3)
            ],
            batch_size=3000,
        )
        by_item: dict[int, list] = {}
        for c in candidates:
            by_item.setdefault(c.item_id, []).append(c)
        judgements, scores = [], []
        for item in items[:300]:
            for clinician in self._pair():
                chosen = rng.choice(by_item[item.pk])
                judgement = PreferenceJudgement(
                    item=item,
                    clinician=clinician,
                    chosen=chosen,
                    effective_chosen=chosen,
                    shown_order=[c.pk for c in by_item[item.pk]],
                )
                judgements.append(judgement)
        PreferenceJudgement.objects.bulk_create(judgements, batch_size=2000)
        for judgement in judgements:
            for c in by_item[judgement.item_id]:
                scores.append(
                    CandidateScore(
                        judgement=judgement,
                        candidate=c,
                        empathy=2,
                        presence=2,
                        stabilization=1,
                        safety=3,
                    )
                )
        CandidateScore.objects.bulk_create(scores, batch_size=5000)
        WorkItem.objects.filter(pk__in=[i.pk for i in items[:300]]).update(
            reviews_done=2, status="done", completed_at=self.now
        )
        # Spread the labels over the last 60 days (created_at is set on insert).
        with connection.cursor() as cursor:
            for model in (SafetyLabel, IntentLabel, SessionRating, PreferenceJudgement):
                cursor.execute(
                    f"UPDATE {model._meta.db_table} "  # noqa: S608 (model metadata)
                    "SET created_at = now() - random() * interval '60 days'"
                )

    def make_imported(self, n: int):
        """An imported corpus's safety-labelling items (as counsel-chat's importer writes them,
        with the masks its batch step stores), spread over the period, for the dataset
        browser's source filter."""
        rng = self.rng
        levels = list(USER_TEXTS)
        masks = texts_masked(text for texts in USER_TEXTS.values() for text in texts)
        items = []
        for i in range(n):
            level = rng.choice(levels)
            text = rng.choice(USER_TEXTS[level])
            items.append(
                WorkItem(
                    kind="safety",
                    reason="imported",
                    priority=0.5,
                    required_reviews=2,
                    text=text,
                    text_masked=masks[text],
                    text_masked_version=MASKING_VERSION,
                    suggestion={"risk_level": level},
                    source="load_corpus",
                    external_id=f"load-corpus-{i}",
                )
            )
        WorkItem.objects.bulk_create(items, batch_size=5000)

    def make_dialogues(self):
        rng = self.rng
        states = ["draft", "in_review", "approved", "approved", "rejected"]
        originals = SeedDialogue.objects.bulk_create(
            [
                SeedDialogue(
                    title=f"Load dialogue {i}",
                    messages=[
                        {"role": "user", "content": rng.choice(USER_TEXTS["low"])},
                        {"role": "assistant", "content": REPLY_TEXTS[0][1]},
                    ],
                    state=rng.choice(states),
                    source="load",
                    created_by=self.clinicians[0],
                )
                for i in range(1500)
            ],
            batch_size=1000,
        )
        SeedDialogue.objects.bulk_create(
            [
                SeedDialogue(
                    title=f"{o.title} (variant {v})",
                    messages=o.messages,
                    state=rng.choice(states),
                    source="load",
                    variant_of=o,
                )
                for o in originals[:500]
                for v in range(3)
            ],
            batch_size=1000,
        )

    def make_audit(self):
        rng = self.rng
        actions = [
            "session_rating.create",
            "safety_label.create",
            "intent_label.create",
            "dialogue.approved",
            "dialogue.update",
        ]
        events = []
        for i in range(50_000):
            clinician = rng.choice(self.clinicians)
            events.append(
                AuditEvent(
                    actor=clinician,
                    actor_name=clinician.username,
                    action=rng.choice(actions),
                    object_type="evaluation.load",
                    object_id=str(i),
                    after={"value": rng.randint(0, 3)},
                )
            )
        AuditEvent.objects.bulk_create(events, batch_size=5000)

    def make_metrics(self):
        today = timezone.localdate()
        metrics_compute(days=[today - timedelta(days=i) for i in range(30)])
