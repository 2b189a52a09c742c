"""Inter-rater agreement, implemented from the definitions (no external dependency).

- Cohen's kappa for two raters: (p_o - p_e) / (1 - p_e).
- Krippendorff's alpha for nominal data, any number of raters and missing values:
  alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k, where o is the coincidence
  matrix (each unit with m >= 2 values adds 1 / (m - 1) for every ordered pair of its values).

Both return ``None`` when the statistic is undefined (no data, or no variation at all).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence


def _kappa_from_counts(n: int, agree: float, count_a: Counter, count_b: Counter) -> float | None:
    observed = agree / n
    expected = sum(count_a[c] * count_b.get(c, 0) for c in count_a) / (n * n)
    if expected >= 1.0:
        return None  # both raters used one and the same class throughout
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa over (rater A's label, rater B's label) pairs."""
    n = len(pairs)
    if n == 0:
        return None
    table = Counter(pairs)
    count_a: Counter = Counter()
    count_b: Counter = Counter()
    for (a, b), k in table.items():
        count_a[a] += k
        count_b[b] += k
    agree = sum(k for (a, b), k in table.items() if a == b)
    return _kappa_from_counts(n, agree, count_a, count_b)


def cohen_kappa_per_class(
    pairs: Sequence[tuple[Hashable, Hashable]],
) -> dict[Hashable, float | None]:
    """One-vs-rest kappa for every class seen in the pairs (from the confusion table)."""
    n = len(pairs)
    table = Counter(pairs)
    count_a: Counter = Counter()
    count_b: Counter = Counter()
    for (a, b), k in table.items():
        count_a[a] += k
        count_b[b] += k
    result = {}
    for c in sorted(set(count_a) | set(count_b), key=str):
        both = table.get((c, c), 0)
        a_only, b_only = count_a[c] - both, count_b[c] - both
        neither = n - both - a_only - b_only
        result[c] = _kappa_from_counts(
            n,
            both + neither,
            Counter({True: count_a[c], False: n - count_a[c]}),
            Counter({True: count_b[c], False: n - count_b[c]}),
        )
    return result


def krippendorff_alpha_nominal(units: Iterable[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha (nominal) over units, each the list of values its raters gave."""
    coincidence: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    two_raters: Counter = Counter()
    for values in units:
        values = [v for v in values if v is not None]
        m = len(values)
        if m < 2:
            continue
        if m == 2:  # the common case: counted in bulk below
            two_raters[(values[0], values[1])] += 1
            continue
        # Every ordered pair (i != j) of the unit's values adds 1 / (m - 1).
        counts = Counter(values)
        for a, n_a in counts.items():
            for b, n_b in counts.items():
                pairs = n_a * (n_a - 1) if a == b else n_a * n_b
                if pairs:
                    coincidence[(a, b)] += pairs / (m - 1)
    for (a, b), k in two_raters.items():
        coincidence[(a, b)] += k
        coincidence[(b, a)] += k
    totals: dict[Hashable, float] = defaultdict(float)
    for (a, _), weight in coincidence.items():
        totals[a] += weight
    n = sum(totals.values())
    if n <= 1:
        return None
    disagreement_observed = sum(w for (a, b), w in coincidence.items() if a != b)
    labels = list(totals)
    disagreement_expected = sum(totals[a] * totals[b] for a in labels for b in labels if a != b)
    if disagreement_expected == 0:
        return None
    return 1.0 - (n - 1) * disagreement_observed / disagreement_expected
