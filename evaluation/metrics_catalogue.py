"""The metrics the evaluation app computes, with their targets (ARCHITECTURE.md, "Metrics")."""

METRICS = {
    # name: (title, unit, target description, target value, higher is better)
    "validation_rate": ("Validation rate", "%", "> 90%", 0.90, True),
    "validation_rate_reviewed": ("Validation rate (clinician-judged)", "%", "> 90%", 0.90, True),
    "appropriateness": ("Appropriateness", "%", "> 85%", 0.85, True),
    "safety_recall": ("Safety recall (high risk)", "%", ">= 98%", 0.98, True),
    "high_risk_fp_rate": ("High-risk false-positive rate", "%", "low", None, False),
    "latency_p50": ("Latency p50", "ms", "", None, False),
    "latency_p95": ("Latency p95", "ms", "< 2000 ms", 2000.0, False),
    "latency_p99": ("Latency p99", "ms", "", None, False),
    "escalation_rate": ("Escalation rate", "%", "", None, False),
    "satisfaction": ("User satisfaction", "stars", "", None, True),
    "error_rate": ("Model error rate", "%", "< 1%", 0.01, False),
}

METRIC_ORDER = tuple(METRICS)

# The live false-negative estimate (evaluation/services/live_fn.py): one row per sample week
# (its Monday) and safety model version: the rate (misses / labelled), and its interval's bounds.
LIVE_FN_PREFIX = "live_fn_"
LIVE_FN_RATE = "live_fn_rate"
LIVE_FN_LOWER = "live_fn_lower"
LIVE_FN_UPPER = "live_fn_upper"
LIVE_FN_NAMES = (LIVE_FN_RATE, LIVE_FN_LOWER, LIVE_FN_UPPER)
