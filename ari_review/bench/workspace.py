"""Server time of every workspace page and queue endpoint (run after generate_load_data on a
separate database). Requests go through the whole Django stack in-process (middleware, auth,
sessions, templates, PostgreSQL); the table shows p50/p95/max in ms and the queries per request,
and the JSON goes to bench-results/workspace.json.

Covered: the queues, labels, dialogues, agreement, the dashboards (every filter: period, date
range, one version, one arm), the dataset browser (first page, keyset pages deep in the table,
each filter: care level, risk, intent, source, date range, search; a conversation; and the first
page with the masking cache cleared) and one metrics computation (``metrics_compute`` as the
beat job runs it, target 2 minutes; ``--metrics-runs``), and the beat job's queue refresh.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ari_bench python manage.py bench_workspace
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations.models import ChatSession, Message
from evaluation.models import AgreementFigures, MetricValue, SeedDialogue, WorkItem, WorkLock
from evaluation.selectors.datasets import ARI, PAGE_SIZE, dataset_sources
from evaluation.services import metrics_compute, work_queues_refresh

TARGET_MS = 200.0
METRICS_TARGET_S = 120.0


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
        parser.add_argument(
            "--metrics-runs", type=int, default=3, help="Timed metrics computations (0: none)."
        )
        parser.add_argument(
            "--only",
            default="",
            help="Only rows whose name contains this (e.g. 'datasets'); metrics still run.",
        )

    def handle(
        self,
        *args,
        repeat: int,
        output: str,
        clinician: str,
        admin: str,
        metrics_runs: int,
        only: str,
        **options,
    ):
        User = get_user_model()
        try:
            self.clinician = User.objects.get(username=clinician)
            self.admin = User.objects.get(username=admin)
        except User.DoesNotExist:
            raise CommandError("Run generate_load_data first (bench users are missing).") from None
        self.repeat = repeat
        self.only = only
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False, DEBUG=False):
            rows = self.run_all() if not only else []
            rows += [r for r in self.run_datasets_and_dashboards() if only in r["name"]]
        metrics = self.bench_metrics(metrics_runs)
        refresh = self.bench_queue_refresh(metrics_runs)
        volume = {
            "sessions": ChatSession.objects.count(),
            "messages": Message.objects.count(),
            "review_queue_open": WorkItem.objects.filter(kind="review", status="open").count(),
            "work_items": WorkItem.objects.count(),
            "seed_dialogues": SeedDialogue.objects.count(),
        }
        self.print_table(rows, volume)
        for m in metrics:
            ok = "yes" if m["max_s"] <= METRICS_TARGET_S else "NO"
            self.stdout.write(
                f"metrics computation, {m['name']} ({m['days']} days, {m['rows']} rows): "
                f"median {m['median_s']:.1f} s, max {m['max_s']:.1f} s over "
                f"{m['runs']} runs; target <= {METRICS_TARGET_S:.0f} s: {ok}"
            )
        if refresh:
            self.stdout.write(
                f"{refresh['name']}: median {refresh['median_s']:.1f} s, max "
                f"{refresh['max_s']:.1f} s over {refresh['runs']} runs (added {refresh['added']})"
            )
        result = {
            "benchmark": "workspace",
            "generated_at": timezone.now().isoformat(),
            "target_ms": TARGET_MS,
            "repeat": repeat,
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "database": {"vendor": connection.vendor, **volume},
            "all_within_target": all(r["p95_ms"] <= TARGET_MS for r in rows),
            "results": rows,
            "metrics_computation": metrics,
            "queue_refresh": refresh,
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

        def figures_gone():
            """No stored figures (a new installation, or the beat job stopped for 30 min)."""
            cache.clear()
            AgreementFigures.objects.all().delete()

        rows.append(
            self.measure(
                "page agreement (no stored figures: recomputed)",
                lambda: c.get(reverse("evaluation:agreement") + "?label_set=safety.risk_level"),
                before=figures_gone,
            )
        )
        rows.append(
            self.measure(
                "GET agreement, 6 sets (no stored figures)",
                lambda: c.get("/api/v1/agreement/"),
                before=figures_gone,
                kind="api",
            )
        )
        page("page adjudication", reverse("evaluation:adjudication"))
        api_get("GET disagreements", "/api/v1/disagreements/")
        page("page dashboards", reverse("evaluation:dashboards"))
        api_get("GET metrics", "/api/v1/metrics/")
        page("page audit log (admin)", reverse("evaluation:audit-log"), client=a)
        api_get("GET audit-events (admin)", "/api/v1/audit-events/", client=a)
        WorkLock.objects.filter(clinician=self.clinician).delete()
        return rows

    def run_datasets_and_dashboards(self) -> list[dict]:
        """The dashboards with each filter and the dataset browser at depth, with each filter."""
        c = self.client_for(self.clinician)
        rows: list[dict] = []

        def page(name, url, before=None):
            rows.append(self.measure(name, lambda: c.get(url), before=before))

        dash = reverse("evaluation:dashboards")
        today = timezone.localdate()
        page("page dashboards (30 days)", dash)
        page("page dashboards (180 days)", dash + "?days=180")
        since, until = today - timedelta(days=60), today - timedelta(days=30)
        page("page dashboards (date range)", dash + f"?since={since}&until={until}")
        version = (
            MetricValue.objects.exclude(model_version="").values_list("model_version", flat=True)
        ).first()
        if version:
            page("page dashboards (one version)", dash + f"?version={version}")
        arm = MetricValue.objects.exclude(rollout_arm="").values_list("rollout_arm", flat=True)
        if arm.first():
            page("page dashboards (one arm)", dash + f"?arm={arm.first()}")

        ds = reverse("evaluation:datasets")
        turns = Message.objects.filter(role="user")
        page("datasets: first page", ds)
        page("datasets: first page, masking cache cleared", ds, before=cache.clear)

        def never_masked():
            """The first page as nobody has read it: no mask cached, none stored."""
            cache.clear()
            newest = list(turns.order_by("-id").values_list("id", flat=True)[:PAGE_SIZE])
            Message.objects.filter(Q(pk__in=newest) | Q(reply_to_id__in=newest)).update(
                text_masked="", text_masked_version=0
            )

        page("datasets: first page, masks not stored yet", ds, before=never_masked)
        bounds = turns.aggregate(lo=Min("id"), hi=Max("id"))
        if bounds["lo"] is None:
            raise CommandError("No chat turns: run generate_load_data first.")
        lo, hi = bounds["lo"], bounds["hi"]
        for share in (0.5, 0.9, 0.999):  # keyset pages deep in the table (0.999: the oldest)
            after = hi - int((hi - lo) * share)
            page(f"datasets: keyset page {share:.1%} deep", f"{ds}?after={after}")
        middle = hi - (hi - lo) // 2
        for care in ("support", "check_in", "safety_check", "crisis"):
            page(f"datasets: care={care}", f"{ds}?care={care}")
            page(f"datasets: care={care}, 50% deep", f"{ds}?care={care}&after={middle}")
        for risk in ("medium", "high"):
            page(f"datasets: risk={risk}", f"{ds}?risk={risk}")
            page(f"datasets: risk={risk}, 50% deep", f"{ds}?risk={risk}&after={middle}")
        for intent in ("validate", "safety_check", "emergency"):
            page(f"datasets: intent={intent}", f"{ds}?intent={intent}")
            page(f"datasets: intent={intent}, 50% deep", f"{ds}?intent={intent}&after={middle}")
        page(
            "datasets: care=crisis, risk=high, intent=emergency",
            f"{ds}?care=crisis&risk=high&intent=emergency",
        )
        for source in dataset_sources():
            if source != ARI:
                page(f"datasets: source={source}", f"{ds}?source={source}")
        page("datasets: last 7 days", f"{ds}?since={today - timedelta(days=6)}")
        old = today - timedelta(days=60)
        page("datasets: one day 60 days ago", f"{ds}?since={old}&until={old}")
        page(
            "datasets: 60-30 days ago, care=crisis", f"{ds}?since={since}&until={until}&care=crisis"
        )
        for word, what in (("week", "common"), ("sister", "rarer"), ("zebra", "absent")):
            page(f"datasets: search {what} word", f"{ds}?q={word}")
        page(
            "datasets: search absent word, last 7 days",
            f"{ds}?q=zebra&since={today - timedelta(days=6)}",
        )
        session_id = turns.filter(care_level="crisis").values_list("session_id", flat=True).last()
        if session_id:
            page(
                "datasets: one conversation",
                reverse("evaluation:dataset-conversation", args=[session_id]),
            )
        return rows

    def bench_metrics(self, runs: int) -> list[dict]:
        """``metrics_compute`` as the beat job calls it (its default days) and as the
        ``compute_metrics`` command does by default (30 days)."""
        if runs <= 0:
            return []
        today = timezone.localdate()
        results = []
        for label, days in (
            ("beat job", None),
            ("compute_metrics (30 days)", [today - timedelta(days=i) for i in range(30)]),
        ):
            timings, rows = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                rows = metrics_compute(days=days)
                timings.append(time.perf_counter() - started)
            results.append(
                {
                    "name": label,
                    "runs": runs,
                    "days": len(days) if days else settings.EVALUATION_METRICS_RECOMPUTE_DAYS,
                    "rows": rows,
                    "median_s": round(statistics.median(timings), 2),
                    "max_s": round(max(timings), 2),
                    "target_s": METRICS_TARGET_S,
                }
            )
        return results

    def bench_queue_refresh(self, runs: int) -> dict | None:
        """``work_queues_refresh`` as the beat job runs it every 5 minutes (review, safety and
        intent queues), each run rolled back so that every run finds the same queues."""
        if runs <= 0:
            return None
        timings, added = [], {}
        for _ in range(runs):
            with transaction.atomic():
                started = time.perf_counter()
                added = work_queues_refresh()
                timings.append(time.perf_counter() - started)
                transaction.set_rollback(True)
        return {
            "name": "queue refresh (beat job)",
            "runs": runs,
            "added": added,
            "median_s": round(statistics.median(timings), 2),
            "max_s": round(max(timings), 2),
        }

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
