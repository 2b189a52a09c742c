"""The issue's targets, measured and met or not, and the printed tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass

IN_PROCESS_P95_MS = 50.0
HTTP_P95_MS = 250.0
EMERGENCY_P95_MS = 300.0
FAULT_P95_RATIO = 1.2  # a faulty phase's p95 at most 20% above the healthy baseline's
DEADLINE_MARGIN_S = 1.0


@dataclass(frozen=True)
class Target:
    """One target of the issue: what was measured against what was asked. ``met`` is None when
    the phase that measures it did not run (``skipped`` says why)."""

    section: str
    name: str
    measured: str
    goal: str
    met: bool | None
    skipped: str = ""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _skipped(results: dict, section: str, names: list[tuple[str, str]], key: str) -> list:
    reason = (results.get("skipped") or {}).get(key, "not run")
    return [Target(section, name, "-", goal, None, reason) for name, goal in names]


RELEASE_ARM_MS = 0.5
CANARY_RATIO = 2.0


def _release_targets(release: dict) -> list[Target]:
    """Issue #17's rows: resolving the release and arm, and a safety canary's cost."""
    found: list[Target] = []
    arm = release.get("arm") or {}
    if arm:
        ms = arm["resolve_p50_ms"]
        found.append(
            Target(
                "1r",
                "release + arm + contents per turn (median)",
                f"{ms:.4f} ms (hash alone {arm['hash_p50_ms']:.4f} ms)",
                f"<= {RELEASE_ARM_MS} ms",
                ms <= RELEASE_ARM_MS,
            )
        )
    canary = release.get("canary") or {}
    if canary.get("ratio") is not None:
        found.append(
            Target(
                "1r",
                "safety canary: screen with candidate / screen alone",
                f"{canary['ratio']:.2f}x ({canary['screen_canary_p50_ms']:.2f} vs "
                f"{canary['screen_single_p50_ms']:.2f} ms)",
                f"<= {CANARY_RATIO:g}x",
                canary["ratio"] <= CANARY_RATIO,
            )
        )
    if canary.get("signal_ratio") is not None:
        found.append(
            Target(
                "1r",
                "signal canary: screen with candidate file / alone",
                f"{canary['signal_ratio']:.2f}x ({canary['screen_signal_canary_p50_ms']:.2f} vs "
                f"{canary['screen_single_p50_ms']:.2f} ms)",
                f"<= {CANARY_RATIO:g}x",
                canary["signal_ratio"] <= CANARY_RATIO,
            )
        )
    return found


def targets(results: dict) -> list[Target]:
    found: list[Target] = []
    inproc = results.get("in_process")
    if inproc:
        p95 = inproc["turn"]["p95_ms"]
        found.append(
            Target(
                "1",
                f"in-process turn p95 ({inproc['generator']}, {inproc['database']})",
                _ms(p95),
                f"<= {IN_PROCESS_P95_MS:.0f} ms",
                p95 is not None and p95 <= IN_PROCESS_P95_MS,
            )
        )
    else:
        found += _skipped(
            results, "1", [("in-process turn p95", f"<= {IN_PROCESS_P95_MS:.0f} ms")], "in_process"
        )

    found += _release_targets(results.get("release") or {})

    http = results.get("http")
    if http:
        turn, stored = http["chat_turn"], http["stored"]
        errors = turn["errors"]
        label = f"HTTP ({http['users']} users x {http['duration_s']:g} s)"
        found += [
            Target("2", f"{label}: errors", str(errors), "0", errors == 0),
            Target(
                "2",
                f"{label}: turn p95",
                _ms(turn["p95_ms"]),
                f"<= {HTTP_P95_MS:.0f} ms",
                turn["p95_ms"] is not None and turn["p95_ms"] <= HTTP_P95_MS,
            ),
            Target(
                "2",
                f"{label}: stored exactly once",
                f"{stored['sent']} sent, {stored['stored_user_messages']} stored, "
                f"{stored['stored_replies']} replies",
                "1 message + 1 reply per key",
                stored["exactly_once"],
            ),
        ]
    else:
        found += _skipped(
            results,
            "2",
            [
                ("HTTP: errors", "0"),
                ("HTTP: turn p95", f"<= {HTTP_P95_MS:.0f} ms"),
                ("HTTP: stored exactly once", "1 message + 1 reply per key"),
            ],
            "http",
        )

    redis = (results.get("faults") or {}).get("redis_down")
    if redis:
        p95 = redis["latency"]["p95_ms"]
        notes = redis["notifications"]
        found += [
            Target(
                "3a",
                "Redis down: emergency reply p95",
                _ms(p95),
                f"<= {EMERGENCY_P95_MS:.0f} ms",
                p95 is not None and p95 <= EMERGENCY_P95_MS,
            ),
            Target(
                "3a",
                "Redis down: replies that are emergency replies",
                f"{redis['emergency_replies']}/{redis['messages']}",
                "all",
                redis["emergency_replies"] == redis["answered_201"] == redis["messages"],
            ),
            Target(
                "3a",
                "Redis back: notifications sent exactly once",
                f"{notes['sent']}/{notes['rows']} rows sent, {notes['emails']} e-mails",
                "each row: sent, 1 e-mail",
                notes["exactly_once"] and redis["sweep"]["sent_by_a_second_sweep"] == 0,
            ),
        ]
    else:
        found += _skipped(
            results,
            "3a",
            [
                ("Redis down: emergency reply p95", f"<= {EMERGENCY_P95_MS:.0f} ms"),
                ("Redis down: replies that are emergency replies", "all"),
                ("Redis back: notifications sent exactly once", "each row: sent, 1 e-mail"),
            ],
            "redis_down",
        )

    llm = (results.get("faults") or {}).get("llm")
    if llm:
        limit_ms = (llm["deadline_s"] + DEADLINE_MARGIN_S) * 1000
        for name in ("hang", "drip"):
            phase = llm["phases"][name]
            ratio = phase["p95_vs_baseline"]
            found += [
                Target(
                    "3b",
                    f"LLM {name}: max latency",
                    _ms(phase["max_ms"]),
                    f"<= {limit_ms:.0f} ms",
                    phase["max_ms"] is not None and phase["max_ms"] <= limit_ms,
                ),
                Target(
                    "3b", f"LLM {name}: errors", str(phase["errors"]), "0", phase["errors"] == 0
                ),
                Target(
                    "3b",
                    f"LLM {name}: p95 vs healthy baseline",
                    "-" if ratio is None else f"x {ratio:.2f}",
                    f"<= x {FAULT_P95_RATIO:.2f}",
                    ratio is not None and ratio <= FAULT_P95_RATIO,
                ),
            ]
        kills = sum(p["worker_kills"]["workers_killed"] for p in llm["phases"].values())
        once = all(p["stored"]["exactly_once"] for p in llm["phases"].values())
        found += [
            Target("3b", "LLM phases: gunicorn worker kills", str(kills), "0", kills == 0),
            Target("3b", "LLM phases: stored exactly once", "yes" if once else "no", "yes", once),
        ]
    else:
        found += _skipped(
            results,
            "3b",
            [
                ("LLM hang/drip: max latency", "<= deadline + 1 s"),
                ("LLM hang/drip: p95 vs healthy baseline", f"<= x {FAULT_P95_RATIO:.2f}"),
            ],
            "llm",
        )
    return found


def targets_json(found: list[Target]) -> list[dict]:
    return [asdict(target) for target in found]


def _verdict(target: Target) -> str:
    if target.met is None:
        return f"skipped ({target.skipped})"
    return "met" if target.met else "NOT met"


def _warmup_line(warmup: dict) -> str:
    cold = warmup["cold_start"]
    return (
        f"cold start {cold['requests']} turns, max {_ms(cold['max_ms'])}, errors "
        f"{cold['errors']}; warm after {warmup['rounds']} rounds"
        + ("" if warmup["warm"] else " (NOT warm: measured anyway)")
    )


def lines(results: dict, found: list[Target]) -> list[str]:
    """The report: every target side by side, then each phase's detail."""
    out: list[str] = []
    m = results["models"]
    out.append(
        f"Chat turn benchmark ({m['generator']} backend in-process; safety {m['safety']}, "
        f"intent {m['intent']}; {results['machine']['cpus']} CPUs, "
        f"{results['machine']['database']})"
    )
    out.append("")
    out.append(f"{'':<4}{'target':<52}{'measured':<40}{'goal':<28}result")
    for t in found:
        out.append(f"{t.section:<4}{t.name:<52}{t.measured:<40}{t.goal:<28}{_verdict(t)}")

    inproc = results.get("in_process")
    if inproc:
        out += ["", f"{'in-process':<30}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"]
        rows = [("one turn (all)", inproc["turn"])]
        rows += [(f"  path: {path}", s) for path, s in inproc["by_path"].items()]
        for label, s in rows:
            out.append(
                f"{label:<30}{s['n']:>7}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['max_ms']:>9.1f}"
            )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in inproc["stages_mean_ms"].items())
        out.append(f"stage means (ms): {stages}")
        arm = inproc.get("release_arm") or {}
        if arm.get("n"):
            out.append(
                f"release + arm per turn (target <= 0.5 ms): p50 {arm['p50_ms']:.3f} ms, "
                f"p95 {arm['p95_ms']:.3f} ms"
            )

    http = results.get("http")
    if http:
        s, stored = http["chat_turn"], http["stored"]
        out += [
            "",
            f"HTTP: {http['server']}, {http['users']} users x {http['duration_s']:g} s: "
            f"{s['requests']} turns, {s['requests_per_s']:.1f}/s, p50 {_ms(s['p50_ms'])}, "
            f"p95 {_ms(s['p95_ms'])}, max {_ms(s['max_ms'])}, errors {s['errors']}, "
            f"worker kills {http['worker_kills']['workers_killed']}",
            f"  warm-up: {_warmup_line(http['warmup'])}",
            f"  stored: {stored['sent']} sent, "
            f"{stored['stored_user_messages']} user messages, {stored['stored_replies']} replies; "
            f"missing {stored['missing']}, duplicated {stored['duplicated']}, "
            f"without reply {stored['without_reply']}",
        ]
        if http["sessions_reused"]:
            out.append("  note: some users ran out of fresh sessions and reused earlier ones")

    faults = results.get("faults") or {}
    redis = faults.get("redis_down")
    if redis:
        lat, down, after = redis["latency"], redis["while_redis_down"], redis["after_sweep"]
        out += [
            "",
            f"Redis down ({redis['server']}): {redis['messages']} high-risk messages, one at a "
            f"time, each in a new session: {redis['answered_201']} answered, "
            f"{redis['emergency_replies']} emergency replies "
            f"({redis['with_crisis_resources']} with crisis resources); "
            f"p50 {_ms(lat['p50_ms'])}, p95 {_ms(lat['p95_ms'])}, max {_ms(lat['max_ms'])}",
            f"  warm-up before Redis stopped: {_warmup_line(redis['warmup'])}",
            f"  while down: {down['escalations']} escalations, {down['notifications']} "
            f"notification rows {down['by_status']}, {down['emails']} e-mails",
            f"  Redis back, sweep: {redis['sweep']['sent']} sent, a second sweep "
            f"{redis['sweep']['sent_by_a_second_sweep']}; rows now {after['by_status']}; "
            f"e-mail files hold {redis['notifications']['emails']} e-mails",
        ]
    llm = faults.get("llm")
    if llm:
        out += [
            "",
            f"LLM faults ({llm['server']}, openai backend, deadline {llm['deadline_s']:g} s, "
            f"{llm['users']} users x {llm['duration_s']:g} s per phase; warm-up, healthy: "
            f"{_warmup_line(llm['warmup'])})",
            f"{'phase':<10}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'x base':>8}"
            f"{'errors':>8}{'kills':>7}{'LLM calls':>11}{'gen max':>9}  fallback share (reasons)",
        ]
        for name, p in llm["phases"].items():
            replies = p["replies"]
            share = replies["fallback_share"]
            ratio = p["p95_vs_baseline"]
            out.append(
                f"{name:<10}{p['requests']:>7}{p['p50_ms'] or 0:>9.1f}{p['p95_ms'] or 0:>9.1f}"
                f"{p['max_ms'] or 0:>9.1f}{'-' if ratio is None else f'{ratio:.2f}':>8}"
                f"{p['errors']:>8}{p['worker_kills']['workers_killed']:>7}{p['llm_calls']:>11}"
                f"{replies['generation_max_ms']:>9.0f}  "
                f"{'-' if share is None else f'{share:.0%}'} {replies['fallback_reasons']}"
            )
    for key, reason in (results.get("skipped") or {}).items():
        out.append(f"skipped {key}: {reason}")
    return out
