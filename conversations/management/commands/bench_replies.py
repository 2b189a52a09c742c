"""``manage.py bench_replies``: does Ari listen? (conversations played through the turn).

The code is ``ari_review.bench.replies`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.replies import Command

__all__ = ["Command"]
