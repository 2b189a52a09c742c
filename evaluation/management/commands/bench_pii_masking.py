"""``manage.py bench_pii_masking``: precision and recall of PII masking.

The code is ``ari_review.bench.pii_masking`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.pii_masking import Command

__all__ = ["Command"]
