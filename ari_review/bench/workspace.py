"""Server time of every workspace page and queue endpoint (run after generate_load_data on a
separate database). Requests go through the whole Django stack in-process (middleware, auth,
sessions, templates, PostgreSQL); the table shows p50/p95/max in ms and the queries per request,
and the JSON goes to bench-results/workspace.json.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ari_bench python manage.py bench_workspace
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations.models import ChatSession, Message
from evaluation.models import SeedDialogue, WorkItem, WorkLock

TARGET_MS = 200.0


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Command(BaseCommand):
    help = "Benchmark the clinician workspace pages and endpoints; prints a table, writes JSON."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument("--output", default="bench-results/workspace.json")
        parser.add_argument("--clinician", default="bench_clinician_1")
        parser.add_argument("--admin", default="bench_admin")

    def handle(self, *args, repeat: int, output: str, clinician: str, admin: str, **options):
        User = get_user_model()
        try:
            self.clinician = User.objects.get(username=clinician)
            self.admin = User.objects.get(username=admin)
        except User.DoesNotExist:
            raise CommandError("Run generate_load_data first (bench users are missing).") from None
        self.repeat = repeat
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False, DEBUG=False):
            rows = self.run_all()
        volume = {
            "sessions": ChatSession.objects.count(),
            "messages": Message.objects.count(),
            "review_queue_open": WorkItem.objects.filter(kind="review", status="open").count(),
            "work_items": WorkItem.objects.count(),
            "seed_dialogues": SeedDialogue.objects.count(),
        }
        self.print_table(rows, volume)
        result = {
            "benchmark": "workspace",
            "generated_at": timezone.now().isoformat(),
            "target_ms": TARGET_MS,
            "repeat": repeat,
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "database": {"vendor": connection.vendor, **volume},
            "all_within_target": all(r["p95_ms"] <= TARGET_MS for r in rows),
            "results": rows,
        }
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
        self.stdout.write(f"Wrote {path}")

    # -------------------------------------------------------------------------------------------

    def client_for(self, user) -> Client:
        client = Client(HTTP_ACCEPT="text/html,application/json")
        client.force_login(user)
        return client

    def measure(self, name: str, call, *, before=None, kind: str = "page") -> dict:
        for _ in range(2):  # warm-up (connections, template and URL caches)
            if before:
                before()
            response = call()
        timings, queries = [], []
        for _ in range(self.repeat):
            if before:
                before()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = call()
                timings.append((time.perf_counter() - started) * 1000)
            queries.append(len(ctx.captured_queries))
        return {
            "name": name,
            "kind": kind,
            "status": response.status_code,
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_p(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
            "queries": max(queries),
        }

    def run_all(self) -> list[dict]:
        c = self.client_for(self.clinician)
        a = self.client_for(self.admin)
        WorkLock.objects.filter(clinician=self.clinician).delete()
        rows = []

        def page(name, url, client=c):
            rows.append(self.measure(name, lambda: client.get(url)))

        def api_get(name, url, client=c):
            rows.append(self.measure(name, lambda: client.get(url), kind="api"))

        def api_post(name, url, body=None, before=None, client=c):
            rows.append(
                self.measure(
                    name,
                    lambda: client.post(url, body or {}, content_type="application/json"),
                    before=before,
                    kind="api",
                )
            )

        # Queue pages and endpoints.
        for kind, url_name in (
            ("review", "evaluation:review-queue"),
            ("safety", "evaluation:safety-labelling"),
            ("intent", "evaluation:intent-labelling"),
            ("preference", "evaluation:preference-queue"),
        ):
            page(f"page {kind} queue", reverse(url_name))
            api_get(f"GET queues/{kind}/items", f"/api/v1/queues/{kind}/items/")
            api_get(f"GET queues/{kind}/progress", f"/api/v1/queues/{kind}/progress/")

            def release(kind=kind):
                WorkLock.objects.filter(clinician=self.clinician, item__kind=kind).delete()

            api_post(
                f"POST queues/{kind}/next (take fresh)",
                f"/api/v1/queues/{kind}/next/",
                before=release,
            )
            api_post(f"POST queues/{kind}/next (held)", f"/api/v1/queues/{kind}/next/")
            held = c.post(f"/api/v1/queues/{kind}/next/", {}, content_type="application/json")
            item = held.json()["item"]
            if item:
                page(f"page {kind} item", item["page_url"])
                page(f"fragment {kind} item", item["fragment_url"])
                api_get(f"GET work-items/{{id}} ({kind})", f"/api/v1/work-items/{item['id']}/")
        # Submitting labels (each run labels a fresh item).
        self.bench_submit(rows, c)
        # Dialogues, agreement, dashboards, audit.
        page("page dialogues", reverse("evaluation:dialogue-list"))
        page("page dialogues (in review)", reverse("evaluation:dialogue-list") + "?state=in_review")
        api_get("GET dialogues", "/api/v1/dialogues/")
        dialogue = SeedDialogue.objects.filter(variant_of__isnull=True).order_by("-id").first()
        if dialogue is None:
            raise CommandError("No seed dialogue to open: load the starter content first.")
        page("page dialogue detail", reverse("evaluation:dialogue-detail", args=[dialogue.pk]))
        rows.append(
            self.measure(
                "page agreement (cache miss: recomputed)",
                lambda: c.get(reverse("evaluation:agreement") + "?label_set=safety.risk_level"),
                before=cache.clear,
            )
        )
        page(
            "page agreement (cached, normal case)",
            reverse("evaluation:agreement") + "?label_set=safety.risk_level",
        )
        rows.append(
            self.measure(
                "GET agreement, 6 sets (cache miss)",
                lambda: c.get("/api/v1/agreement/"),
                before=cache.clear,
                kind="api",
            )
        )
        api_get("GET agreement, 6 sets (cached)", "/api/v1/agreement/")
        page("page adjudication", reverse("evaluation:adjudication"))
        api_get("GET disagreements", "/api/v1/disagreements/")
        page("page dashboards", reverse("evaluation:dashboards"))
        api_get("GET metrics", "/api/v1/metrics/")
        page("page audit log (admin)", reverse("evaluation:audit-log"), client=a)
        api_get("GET audit-events (admin)", "/api/v1/audit-events/", client=a)
        WorkLock.objects.filter(clinician=self.clinician).delete()
        return rows

    def bench_submit(self, rows, c):
        state = {}

        def take(kind):
            def before():
                body = c.post(f"/api/v1/queues/{kind}/next/", {}, content_type="application/json")
                state["item"] = body.json()["item"]

            return before

        def rating_body():
            item = state["item"]
            replies = [
                {"message_id": t["id"], "flags": [], "validated": True}
                for t in item["turns"]
                if t["role"] == "assistant"
            ]
            return {"appropriateness": "appropriate", "replies": replies, "note": ""}

        specs = [
            ("review", "session-rating", rating_body),
            ("safety", "safety-label", lambda: {"risk_level": "low", "urgency": "low"}),
            ("intent", "intent-label", lambda: {"intent": "validate"}),
        ]
        for kind, endpoint, body in specs:
            queued = WorkItem.objects.filter(kind=kind, status="open").count()
            if queued < self.repeat + 4:
                self.stderr.write(f"skipped {endpoint}: only {queued} open {kind} items")
                continue
            rows.append(
                self.measure(
                    f"POST work-items/{{id}}/{endpoint}",
                    lambda endpoint=endpoint, body=body: c.post(
                        f"/api/v1/work-items/{state['item']['id']}/{endpoint}/",
                        body(),
                        content_type="application/json",
                    ),
                    before=take(kind),
                    kind="api",
                )
            )

    def print_table(self, rows, volume):
        self.stdout.write(
            f"Workspace benchmark: {volume['sessions']:,} sessions, {volume['messages']:,} "
            f"messages, {volume['review_queue_open']:,} open review items; "
            f"{self.repeat} requests each; target p95 <= {TARGET_MS:.0f} ms"
        )
        width = max(len(r["name"]) for r in rows)
        header = (
            f"{'endpoint':<{width}}  {'status':>6}  {'p50 ms':>7}  {'p95 ms':>7}  "
            f"{'max ms':>7}  {'queries':>7}  ok"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in rows:
            ok = "yes" if r["p95_ms"] <= TARGET_MS else "NO"
            self.stdout.write(
                f"{r['name']:<{width}}  {r['status']:>6}  {r['p50_ms']:>7.1f}  "
                f"{r['p95_ms']:>7.1f}  {r['max_ms']:>7.1f}  {r['queries']:>7}  {ok}"
            )
