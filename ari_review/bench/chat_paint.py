"""python manage.py bench_chat_paint: time to the first meaningful paint of the chat page.

Starts this project on a local live-server thread (the configured database), signs a bench user
in with headless Chromium and loads ``/chat/`` ``--runs`` times (a fresh page each time, caches
warm after the first), reading the browser's own Performance API: first paint, first
contentful paint, largest contentful paint (the meaningful content: the page's heading and
words), DOMContentLoaded and load. Prints a table (median, p95, max in ms) and writes JSON.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

PAINT_JS = """async () => {
  const lcp = await new Promise((resolve) => {
    let last = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) last = e.startTime;
    }).observe({ type: "largest-contentful-paint", buffered: true });
    setTimeout(() => resolve(last), 300);
  });
  const paint = Object.fromEntries(
    performance.getEntriesByType("paint").map((e) => [e.name, e.startTime])
  );
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    first_paint: paint["first-paint"] ?? null,
    first_contentful_paint: paint["first-contentful-paint"] ?? null,
    largest_contentful_paint: lcp || null,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
  };
}"""
METRICS = (
    "first_paint",
    "first_contentful_paint",
    "largest_contentful_paint",
    "dom_content_loaded",
    "load",
)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time to first meaningful paint of the chat page in headless Chromium (table + JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=10)
        parser.add_argument("--viewport", choices=("phone", "desktop"), default="phone")
        parser.add_argument(
            "--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        )
        parser.add_argument("--output", default="bench-results/chat_paint.json")

    def handle(self, *args, runs, viewport, chromium, output, **options):
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        if not Path(chromium).exists():
            raise CommandError(f"Chromium not found at {chromium} (--chromium PATH).")
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.test.testcases import LiveServerThread
        from playwright.sync_api import sync_playwright

        from ari_review.services import user_upsert

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        password = "bench-paint-only-1"  # noqa: S105 - a local bench account
        user_upsert(username="bench_paint", role="enduser", password=password)
        server = LiveServerThread("127.0.0.1", StaticFilesHandler)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise CommandError(f"the live server did not start: {server.error}")
        base = f"http://127.0.0.1:{server.port}"
        size: ViewportSize = (
            {"width": 375, "height": 667} if viewport == "phone" else {"width": 1280, "height": 800}
        )
        samples: list[dict] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=chromium, headless=True, args=["--no-sandbox"]
                )
                context = browser.new_context(viewport=size)
                page = context.new_page()
                page.goto(f"{base}/accounts/login/?next=/chat/")
                page.get_by_label("Username").fill("bench_paint")
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/chat/")
                for _ in range(runs):
                    fresh = context.new_page()
                    fresh.goto(f"{base}/chat/", wait_until="load")
                    samples.append(fresh.evaluate(PAINT_JS))
                    fresh.close()
                browser.close()
        finally:
            server.terminate()
        summary = {}
        self.stdout.write(
            f"chat page /chat/, {viewport} {size['width']}x{size['height']}, {runs} loads"
        )
        self.stdout.write(f"{'metric':<26}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}")
        for metric in METRICS:
            values = [s[metric] for s in samples if s[metric] is not None]
            if not values:
                continue
            summary[metric] = {
                "median_ms": round(statistics.median(values), 1),
                "p95_ms": round(_p95(values), 1),
                "max_ms": round(max(values), 1),
            }
            row = summary[metric]
            self.stdout.write(
                f"{metric:<26}{row['median_ms']:>10}{row['p95_ms']:>10}{row['max_ms']:>10}"
            )
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {"viewport": viewport, "runs": runs, "summary": summary, "samples": samples},
                indent=2,
            )
        )
        self.stdout.write(f"wrote {path}")
